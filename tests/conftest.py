"""Fixtures shared by the whole suite (the sandbox process and the Mint settings that point at it), the plugins
that bring the rest, and the markers every test gets from the fixtures it uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.audit_guard import allow_audit_flush
from tests.sandbox_process import SandboxProcess

# The suite's shared fixtures, registered once for every test folder (a test module never imports a fixture):
pytest_plugins = [
    "tests.portal",  # a clean cache around every test, the sandbox API, a superuser and a signed-in client
    "tests.personas",  # operator, approver, approver2, case_handler, admin, outsider and their workflows
    "tests.celery_worker",  # a real Celery worker process (Redis broker, the test database)
    "tests.redis_server",  # a private redis-server a test may stop and restart
    "tests.clock",  # django.utils.timezone.now under the test's control
    "tests.sandbox_workflows",  # workflows waiting for approval, a manual step or a form; journeys started in them
]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

# A test that uses one of these fixtures (directly or through another fixture) gets the marker, so that a new test
# cannot forget it; `make test-fast` leaves out the marked tests (markers are declared in pyproject.toml).
FIXTURE_MARKERS = {
    "sandbox_process": "sandbox",  # the sandbox's Mint API in a process of its own
    "celery_worker_process": "worker",  # a real Celery worker process
    "chromium": "browser",  # Chromium through Playwright (tests/e2e/conftest.py)
    "redis_server": "needs_redis",  # a private redis-server process (tests/redis_server.py)
    "redis_url": "needs_redis",  # the machine's Redis (REDIS_URL)
    "postgresql": "needs_postgres",  # the test database is PostgreSQL
    "private_postgres": "needs_postgres",  # a PostgreSQL cluster of the test's own (tests/mintportal/test_health.py)
    "scratch_database": "needs_postgres",  # a throw-away PostgreSQL database (tests/bench/test_chaos.py)
}
# The sandbox's own tests start its process, some of them several processes of their own.
SANDBOX_TESTS = Path(__file__).parent / "sandbox"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in used:
                item.add_marker(marker)
        if item.path.is_relative_to(SANDBOX_TESTS):
            item.add_marker("sandbox")


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


@pytest.fixture
def postgresql() -> None:
    """For a test that needs the test database on PostgreSQL (DATABASE_URL=postgres://…)."""
    from django.db import connection

    require_service("PostgreSQL", connection.vendor == "postgresql",
                    "set DATABASE_URL=postgres://… to run this test on PostgreSQL")


@pytest.fixture
def redis_url(settings) -> str:
    """The machine's Redis (REDIS_URL, or the local default), which must answer."""
    url = settings.REDIS_URL or DEFAULT_REDIS_URL
    try:
        reachable = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        reachable = False
    require_service("Redis", reachable, f"nothing answers at {url}")
    return url


def require_service(name: str, reachable: bool, reason: str) -> None:
    """Skips a test whose service is missing on a developer's machine; in CI the same gap fails."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")
