"""``python -m sandbox demo`` loads a realistic data set once, and a sandbox serving it shows every status.

The loader runs as a real subprocess on a fresh SQLite file; a second run must leave the file's content as it
was. The data is then read over HTTP from a sandbox process started on that file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_process import ROOT, SandboxProcess

STATUSES = ["idle", "running", "active", "finished", "faulted", "cancelled"]


def run_demo(process: SandboxProcess) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SANDBOX_DATABASE_PATH": str(process.workdir / "sandbox.sqlite3"),
        "SANDBOX_CLIENT_ID": process.client_id,
        "SANDBOX_CLIENT_SECRET": process.client_secret,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "sandbox", "demo"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def database_dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A sandbox serving the demo data, with what the two loader runs printed and whether they changed the file."""
    process = SandboxProcess(workdir=tmp_path_factory.mktemp("demo"))
    first = run_demo(process)
    before = database_dump(process.workdir / "sandbox.sqlite3")
    second = run_demo(process)
    after = database_dump(process.workdir / "sandbox.sqlite3")
    process.start()
    try:
        yield {"process": process, "first": first.stdout, "second": second.stdout, "unchanged": before == after}
    finally:
        process.stop()


def get(demo: dict[str, Any], path: str, **params: Any) -> Any:
    response = demo["process"].api("GET", path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def every_journey(demo: dict[str, Any], **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = get(demo, "journeys", limit=100, offset=len(rows), **filters)
        rows += page["data"]
        if len(rows) >= page["totalCount"]:
            return rows


def test_a_second_run_changes_nothing(demo):
    assert "Loaded the demo workflows" in demo["first"]
    assert "already loaded" in demo["second"]
    assert demo["unchanged"]


def test_it_loads_four_tagged_workflows_with_inputs_files_and_versions(demo):
    workflows = get(demo, "workflows", limit=100)["data"]
    assert sorted(w["name"] for w in workflows) == [
        "Address change", "Batch KYC check", "Contract signing", "Customer onboarding"]
    details = {w["name"]: get(demo, f"workflows/{w['id']}") for w in workflows}
    tags = {tag for detail in details.values() for tag in detail["tags"]}
    assert {"onboarding", "contracts", "customer-service", "batch"} <= tags
    assert all(d["inputParameters"] for d in details.values())
    onboarding = details["Customer onboarding"]
    assert get(demo, f"workflows/{onboarding['id']}/versions")["totalCount"] == 2
    assert onboarding["files"][0]["filename"] == "terms-and-conditions.pdf"
    address = details["Address change"]
    assert address["version"] == 2 and address["isPublished"] is False
    published = get(demo, "workflows", version="published", limit=100)["data"]
    assert {w["name"]: w["version"] for w in published}["Address change"] == 1


def test_every_status_is_present_over_the_last_thirty_days(demo):
    for status in STATUSES:
        assert get(demo, "journeys", status=status, limit=1)["totalCount"] > 0, status
    journeys = every_journey(demo)
    assert 200 <= len(journeys) <= 400
    created = sorted(datetime.fromisoformat(journey["createdAt"]) for journey in journeys)
    assert timedelta(days=25) < created[-1] - created[0] <= timedelta(days=31)


def test_active_journeys_wait_on_forms_logins_approvals_suspends_and_timers(demo):
    waiting = {
        step["stepType"]
        for journey in every_journey(demo, status="active")
        for step in get(demo, f"journeys/{journey['id']}")["activeSteps"]
    }

    assert waiting == {"form", "eid-login", "require-approval", "suspend", "waiting"}


def test_journeys_carry_notes_alerts_and_files(demo):
    finished = every_journey(demo, status="finished", search="Onboarding")
    assert any(journey["alerts"] for journey in every_journey(demo))
    notes = [note for journey in finished for note in get(demo, f"journeys/{journey['id']}/notes")["data"]]
    assert notes and all(note["createdBy"] == demo["process"].client_id for note in notes)
    files = [(journey["id"], file) for journey in finished for file in get(demo, f"journeys/{journey['id']}")["files"]]
    journey_id, file = next((j, f) for j, f in files if f["contentType"] == "application/pdf")
    download = demo["process"].api("GET", f"journeys/{journey_id}/files/{file['id']}")
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")


def test_contracts_wait_for_sign_off_for_different_lengths_of_time_and_signed_ones_passed_it(demo):
    contracts = {journey["id"]: journey for journey in every_journey(demo, search="Contract")}
    at_signoff = [
        journey for journey in contracts.values() if journey["status"] == "active"
        and [step["stepId"] for step in get(demo, f"journeys/{journey['id']}")["activeSteps"]] == ["signoff"]
    ]
    assert len(at_signoff) >= 6
    now = datetime.now(UTC)
    ages = sorted(now - datetime.fromisoformat(journey["lastExecutedAt"]) for journey in at_signoff)
    # Some within a day's SLA and some past it, so the inbox shows both.
    assert ages[0] < timedelta(hours=24) < ages[-1] and len(set(ages)) == len(ages)
    finished = [journey for journey in contracts.values() if journey["status"] == "finished"]
    assert finished
    signed = get(demo, f"journeys/{finished[0]['id']}")
    assert signed["stepData"]["signoff"]["approved"] is True
    assert signed["stepData"]["signoff"]["message"].startswith("Approved by approver, approver2")
    refused = [get(demo, f"journeys/{journey['id']}") for journey in contracts.values()
               if journey["status"] == "faulted"]
    assert any(detail["stepData"].get("signoff", {}).get("approved") is False for detail in refused)
