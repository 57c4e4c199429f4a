"""One scheduler's worth of periodic work however many beats run (mintportal/celery.py, ``OneRunPerInterval``).

Two real ``celery beat`` processes publish to a private Redis with no worker attached, so every periodic
message they send stays in the queue to be counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.celery_worker import wait_for
from tests.redis_server import RedisServer
from tests.sandbox_process import ROOT

SYNC_TASK = "journeys.tasks.journey_sync_task"


@pytest.fixture
def beats(tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_beat(processes: list[subprocess.Popen], *, redis_url: str, workdir: Path, name: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINT_", "CELERY_"))}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", REDIS_URL=redis_url, PORTAL_RUN_DIR=str(workdir),
               CACHE_KEY_PREFIX="beat-test", MINT_SYNC_INTERVAL="1", DATABASE_URL=f"sqlite:///{workdir}/db.sqlite3")
    log = workdir / f"{name}.log"
    processes.append(subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mintportal", "beat", "-s", str(workdir / f"{name}-schedule"),
         "--pidfile=", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    ))
    return log


def sync_send_times(server: RedisServer) -> list[float]:
    """When each queued incremental-sync message was sent (its expiry, one interval after sending, minus 1 s)."""
    times = []
    for raw in server.client().lrange("celery", 0, -1):
        headers = json.loads(raw)["headers"]
        if headers["task"] == SYNC_TASK:
            times.append(datetime.fromisoformat(headers["expires"]).timestamp() - 1.0)
    return sorted(times)


def test_two_beats_send_each_periodic_task_once_per_interval(redis_server: RedisServer, beats, tmp_path: Path):
    logs = [start_beat(beats, redis_url=redis_server.url, workdir=tmp_path / name, name=name) for name in ("a", "b")]
    wait_for(lambda: all(b"beat: Starting" in log.read_bytes() for log in logs), timeout=60,
             message="both beats to start")
    started = time.monotonic()

    wait_for(lambda: len(sync_send_times(redis_server)) >= 6, timeout=30, message="six incremental syncs sent")
    elapsed = time.monotonic() - started

    sent = sync_send_times(redis_server)
    # One beat sends the 1-second task about once a second; two unguarded beats send twice as many.
    assert len(sent) <= elapsed + 2, f"{len(sent)} syncs in {elapsed:.1f} s"
    assert len({int(at) for at in sent}) == len(sent), "two syncs were sent in one interval"
