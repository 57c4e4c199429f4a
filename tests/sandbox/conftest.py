"""Fixtures for the sandbox's own tests."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import Api
from tests.sandbox_process import SandboxProcess


@pytest.fixture
def api(sandbox: SandboxProcess) -> Api:
    """The API as the sandbox's configured client (both roles) sees it, with one token for the test."""
    return Api(sandbox=sandbox, token=sandbox.token())
