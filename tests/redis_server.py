"""A private ``redis-server`` process a test starts, stops and restarts itself, and a switch of the test
process's Celery app to another broker (that Redis, or a private filesystem-broker folder).

The machine's Redis (``REDIS_URL``) is shared by the suite and must never be restarted; faults of the broker
are shown on a server of the test's own, on a free loopback port, in its own directory.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from tests.sandbox_process import free_port

# Redis without persistence, as the machine's Redis runs and as docker-compose.yml ran it before issue 11.
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


def require_redis_server() -> str:
    """The ``redis-server`` binary; skips locally, fails in CI, when it is missing."""
    from tests.conftest import require_service

    binary = shutil.which("redis-server")
    require_service("redis-server", binary is not None, "install redis-server (apt-get install redis-server)")
    return binary or ""


@dataclass
class RedisServer:
    """One ``redis-server`` on a free port; ``args`` are its persistence options (``--dir`` is added)."""

    workdir: Path
    args: tuple[str, ...] = NO_PERSISTENCE
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def start(self, timeout: float = 10.0) -> None:
        self.port = self.port or free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [require_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", *self.args,
             "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(self.workdir / 'redis.log').read_text()[-2000:]}")
            # Polling for readiness of a child process.
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: a clean shutdown (an append-only file is flushed; without persistence, everything is gone)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private Redis without persistence, stopped after the test."""
    server = RedisServer(workdir=tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def filesystem_broker_options(folder: Path) -> dict[str, object]:
    """The embedded default's filesystem-broker options (mintportal/settings.py) for a private folder."""
    queue = folder / "celery" / "queue"
    options = {
        "data_folder_in": str(queue), "data_folder_out": str(queue),
        "processed_folder": str(folder / "celery" / "processed"),
        "control_folder": str(folder / "celery" / "control"), "store_processed": False,
    }
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        Path(str(options[key])).mkdir(parents=True, exist_ok=True)
    return options


@contextmanager
def publishing_to(url: str, transport_options: dict[str, object] | None = None) -> Iterator[None]:
    """Points this process's Celery app at another broker for the block: every ``delay`` publishes there."""
    from kombu import pools

    from mintportal.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options, app.conf.broker_transport)

    def switch(to_url: str, options: dict, transport: str | None = None) -> None:
        app.conf.broker_url = to_url
        app.conf.broker_transport_options = options
        # An explicit transport wins over the URL's scheme: the portal's own filesystem transport goes only with a
        # filesystem URL (mintportal.broker), and a Redis URL needs none.
        app.conf.broker_transport = transport or (
            "mintportal.broker:Transport" if to_url.startswith("filesystem://") else None)
        # Celery caches its connection and producer pools (kombu's registry); drop them all so that the next
        # publish connects to the new broker.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    switch(url, transport_options or {})
    try:
        yield
    finally:
        switch(*saved)
