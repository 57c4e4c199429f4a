"""Fixtures for the workflow page tests: an API client on the sandbox and signed-in users."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from tests.sandbox.helpers import Api


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Each test starts with an empty cache, so a call counted on the sandbox is this test's own."""
    cache.clear()


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox=sandbox, token=sandbox.token())


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser("root", "root@example.com", "mintdemo")


@pytest.fixture
def root_client(client: Client, superuser: User) -> Client:
    client.force_login(superuser)
    return client
