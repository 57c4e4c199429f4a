"""Fixtures shared by the whole suite: the sandbox process and the Mint settings that point at it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.audit_guard import allow_audit_flush
from tests.sandbox_process import SandboxProcess

# The suite's shared fixtures, registered once for every test folder (a test module never imports a fixture):
pytest_plugins = [
    "tests.portal",  # a clean cache around every test, the sandbox API, a superuser and a signed-in client
    "tests.personas",  # operator, approver, approver2, case_handler, admin, outsider and their workflows
    "tests.celery_worker",  # a real Celery worker process (Redis broker, the test database)
    "tests.redis_server",  # a private redis-server a test may stop and restart
    "tests.clock",  # django.utils.timezone.now under the test's control
]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session", autouse=True)
def _audit_table_flushable() -> None:
    """Tests that commit are cleaned up by a flush of every table, which the append-only audit table refuses."""
    allow_audit_flush()


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox process for the session, on a free loopback port, with its own SQLite file."""
    process = SandboxProcess(workdir=tmp_path_factory.mktemp("sandbox"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def sandbox(sandbox_process: SandboxProcess) -> Iterator[SandboxProcess]:
    """The session's sandbox with faults, counters, config and clock reset around each test."""
    sandbox_process.reset()
    yield sandbox_process
    sandbox_process.reset()


@pytest.fixture
def mint_settings(settings, sandbox: SandboxProcess):
    """Points the portal's Mint settings at the sandbox process."""
    settings.MINT_BASE_URL = sandbox.base_url
    settings.MINT_TOKEN_URL = sandbox.token_url
    settings.MINT_CLIENT_ID = sandbox.client_id
    settings.MINT_CLIENT_SECRET = sandbox.client_secret
    settings.MINT_MAX_RETRY_WAIT = 2
    # The breakers' state is shared through the cache and outlives a test, as the sandbox's faults would.
    from mintportal.mint import get_client

    get_client().breakers.reset()
    return settings


def require_service(name: str, reachable: bool, reason: str) -> None:
    """Skips a test whose service is missing on a developer's machine; in CI the same gap fails."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")
