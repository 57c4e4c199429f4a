"""``python -m sandbox seed`` bulk-loads journeys that a sandbox then serves like any other, and times listings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sandbox_process import ROOT, SandboxProcess

JOURNEYS = 400


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxProcess, str]]:
    """A sandbox serving a freshly seeded database, and what the seeder printed."""
    process = SandboxProcess(workdir=tmp_path_factory.mktemp("seed"))
    env = {
        **os.environ,
        "SANDBOX_DATABASE_PATH": str(process.workdir / "sandbox.sqlite3"),
        "SANDBOX_CLIENT_ID": process.client_id,
        "SANDBOX_CLIENT_SECRET": process.client_secret,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "seed", "--journeys", str(JOURNEYS), "--workflows", "4", "--runs", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    process.start()
    try:
        yield process, result.stdout
    finally:
        process.stop()


def listing(process: SandboxProcess, path: str, **params: Any) -> dict[str, Any]:
    response = process.api("GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_it_prints_the_timing_of_each_listing(seeded):
    _, output = seeded

    assert f"Added 4 workflows and {JOURNEYS} journeys" in output
    assert f"With {JOURNEYS} journeys in the database" in output
    assert "status=active, sort=-lastExecutedAt, limit=100: median" in output


def test_the_seeded_journeys_are_served_with_every_status(seeded):
    process, _ = seeded

    assert listing(process, "journeys")["totalCount"] == JOURNEYS
    assert listing(process, "workflows")["totalCount"] == 4
    for status in ["idle", "running", "active", "finished", "faulted", "cancelled"]:
        assert listing(process, "journeys", status=status)["totalCount"] > 0, status


def test_a_seeded_active_journey_can_be_continued(seeded):
    process, _ = seeded
    active = listing(process, "journeys", status="active", limit=100)["data"]
    detail = next(d for d in (process.api("GET", f"journeys/{j['id']}").json() for j in active)
                  if d["activeSteps"][0]["stepType"] == "suspend")

    response = process.api("POST", f"journeys/{detail['id']}/resume",
                           json={"stepId": "verify", "input": {"verified": True, "handledBy": "Tests"}})

    assert response.status_code == 204
    assert process.api("GET", f"journeys/{detail['id']}").json()["status"] == "finished"
