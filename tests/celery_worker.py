"""A real Celery worker process for tests: ``celery -A mintportal worker`` sharing the suite's broker and DB.

The worker is a separate process, as in production, so it sees only what the test has committed: tests
using it need ``@pytest.mark.django_db(transaction=True)``. It uses the same broker as the test process:
Redis when the suite runs with ``REDIS_URL`` (as ``.ci/run`` does, where Redis is required), otherwise the
embedded default's filesystem broker in the suite's run directory, so both modes are exercised. Its database
is pytest-django's test database (``test_<name>`` on PostgreSQL, the test SQLite file otherwise), passed
through ``DATABASE_URL``; an in-memory SQLite test database cannot be shared, and those tests are skipped.
The worker is pointed at the session's sandbox process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.sandbox_process import ROOT, SandboxProcess

WEBHOOK_SECRET = "tests-webhook-secret"


def database_url(settings_dict: dict) -> str:
    """A ``DATABASE_URL`` for the database Django is connected to (the test database during tests)."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def wait_for(condition: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.05,
             message: str = "condition") -> object:
    """Polls ``condition`` until it returns something truthy, or fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@dataclass
class CeleryWorker:
    """One ``celery worker`` subprocess with its log file."""

    env: dict[str, str]
    log_path: Path
    name: str = "tests"
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "mintportal", "worker", "-P", "solo", "-n", f"{self.name}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO", *self.extra_args],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log_path.read_bytes()[offset:]:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"celery worker not ready within {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, as on an out-of-memory kill or a lost machine."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def worker_env(*, settings, sandbox: SandboxProcess) -> dict[str, str]:
    """The environment of a worker that shares this test session's database, broker, cache and sandbox."""
    from django.db import connection

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        # The suite's run directory holds the filesystem broker and file cache when there is no Redis.
        "PORTAL_RUN_DIR": str(settings.RUN_DIR),
        "MINT_BASE_URL": sandbox.base_url,
        "MINT_TOKEN_URL": sandbox.token_url,
        "MINT_CLIENT_ID": sandbox.client_id,
        "MINT_CLIENT_SECRET": sandbox.client_secret,
        "MINT_MAX_RETRY_WAIT": "2",
        "MINT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    return env


def require_worker_services(settings) -> None:
    """Fails in CI without Redis; skips (locally) or fails (CI) when the test database cannot be shared."""
    from django.db import connection

    from tests.conftest import IN_CI, require_service

    if IN_CI:
        require_service("Redis", bool(settings.REDIS_URL), "set REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    in_memory = connection.vendor == "sqlite" and connection.creation.is_in_memory_db(
        connection.settings_dict["NAME"]
    )
    require_service("a shared test database", not in_memory,
                    "the worker process cannot open an in-memory SQLite database; use PostgreSQL or a file")


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, sandbox_process: SandboxProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryWorker]:
    """One worker for the session, started on first use; queued leftovers are purged first."""
    from django.conf import settings

    from mintportal.celery import app

    require_worker_services(settings)
    run_dir = tmp_path_factory.mktemp("celery-worker")
    with django_db_blocker.unblock():
        env = worker_env(settings=settings, sandbox=sandbox_process)
    app.control.purge()
    worker = CeleryWorker(env=env, log_path=run_dir / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def celery_worker(celery_worker_process: CeleryWorker, mint_settings, sandbox: SandboxProcess) -> CeleryWorker:
    """The session's worker, with this test's Mint settings pointing at the same sandbox.

    Restarts the worker if an earlier test killed it.
    """
    mint_settings.MINT_WEBHOOK_SECRET = WEBHOOK_SECRET
    if celery_worker_process.process is None or celery_worker_process.process.poll() is not None:
        celery_worker_process.start()
    return celery_worker_process
