"""Fixtures for the workflow page tests: see tests/portal.py."""

from tests.portal import api, empty_cache, root_client, superuser  # noqa: F401
