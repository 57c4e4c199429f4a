"""``python -m sandbox seed --journeys 100000 [--workflows 20]``: bulk-loads journeys, then times the listing.

For scale checks, not for demos: the journeys are written with ``bulk_create`` in batches, without running the
engine and without publishing events. Final journeys spread over the last 90 days; journeys still in progress
(idle, running, active) over the last 25, inside the default inactivity limit, so that a sandbox serving the
data does not start cancelling them. Active journeys wait on a form, a suspend or an approval step (never a
timer, which the scheduler would fire).

After loading, it measures journeys listings through the sandbox's whole request path (URL routing,
middleware, bearer-token check, validation, query, JSON) with Django's test client, several runs each, and
prints the median and the slowest run in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.test import Client

from sandbox.core import clock, services
from sandbox.core.models import (
    FINAL_STATUSES,
    Journey,
    JourneyLogStep,
    JourneyState,
    JourneyStatus,
    JourneyWait,
    WaitKind,
    WorkflowVersion,
)
from sandbox.demo import COMPANIES, FIRST_NAMES, LAST_NAMES, address_change, contract_signing, onboarding

SEED = 424242
BATCH_SIZE = 5000
# Share of each status among seeded journeys: most journeys are done, a fifth wait for someone.
STATUS_WEIGHTS = {
    JourneyStatus.FINISHED: 58,
    JourneyStatus.ACTIVE: 20,
    JourneyStatus.CANCELLED: 10,
    JourneyStatus.FAULTED: 8,
    JourneyStatus.IDLE: 3,
    JourneyStatus.RUNNING: 1,
}
ENDED_AT_FIELD = {
    JourneyStatus.FINISHED: "finished_at",
    JourneyStatus.FAULTED: "faulted_at",
    JourneyStatus.CANCELLED: "cancelled_at",
}
FINAL_SPREAD = timedelta(days=90)
OPEN_SPREAD = timedelta(days=25)
# Steps of the seeded workflows that active journeys wait on, by workflow template.
WAITS = {
    "onboarding": [("details", "form", WaitKind.END_USER), ("approval", "require-approval", WaitKind.APPROVAL)],
    "contract": [("review", "form", WaitKind.END_USER)],
    "address": [("verify", "suspend", WaitKind.RESUME)],
}


@dataclass(frozen=True)
class SeedWorkflow:
    version: WorkflowVersion
    template: str
    label: str


def create_workflows(count: int, rng: random.Random) -> list[SeedWorkflow]:
    """``count`` published workflows made from the demo's definitions, named by region."""
    templates = [("onboarding", onboarding(with_welcome_letter=True), "Onboarding"),
                 ("contract", contract_signing(), "Contract"),
                 ("address", address_change(with_letter=True), "Address change")]
    regions = ["Norway", "Sweden", "Denmark", "Finland", "Baltics", "Germany", "Poland", "Netherlands"]
    workflows = []
    for index in range(count):
        template, body, label = templates[index % len(templates)]
        name = f"{body['name']} – {regions[index % len(regions)]} {index // len(regions) + 1}"
        created = services.workflow_create(body=body | {"name": name})
        services.workflow_publish(workflow_id=created["id"], version="1")
        version = WorkflowVersion.objects.get(workflow_id=created["id"], version=1)
        workflows.append(SeedWorkflow(version, template, label))
    rng.shuffle(workflows)
    return workflows


def _journey_name(workflow: SeedWorkflow, rng: random.Random) -> str:
    if workflow.template == "contract":
        return f"{workflow.label} – {rng.choice(COMPANIES)}"
    return f"{workflow.label} – {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def build_journey(workflow: SeedWorkflow, rng: random.Random, now: datetime) -> Journey:
    """One journey row with timestamps that fit its status."""
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    is_open = status in {JourneyStatus.IDLE, JourneyStatus.RUNNING, JourneyStatus.ACTIVE}
    spread = OPEN_SPREAD if is_open else FINAL_SPREAD
    created = now - timedelta(seconds=rng.uniform(60, spread.total_seconds()))
    last_executed = None
    if status != JourneyStatus.IDLE:
        last_executed = min(created + timedelta(seconds=rng.uniform(1, 3 * 86400)), now)
    journey = Journey(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        workflow_id=workflow.version.workflow_id,
        version=workflow.version.version,
        workflow_version=workflow.version,
        workflow_name=workflow.version.name,
        status=status,
        name=None if status == JourneyStatus.IDLE else _journey_name(workflow, rng),
        created_at=created,
        last_executed_at=last_executed,
        pending_steps=status == JourneyStatus.ACTIVE,
        alerts=[],
    )
    if status in ENDED_AT_FIELD:
        setattr(journey, ENDED_AT_FIELD[status], last_executed)
    if last_executed and rng.random() < 0.1:
        severity = rng.choice(["info", "warning", "critical"])
        journey.alerts = [{"stepId": "check", "severity": severity, "message": f"Seeded {severity} alert.",
                           "timestamp": clock.isoformat(last_executed)}]
    return journey


def insert_batch(journeys: list[Journey], workflows_by_id: dict[str, SeedWorkflow], rng: random.Random) -> None:
    """Writes a batch of journeys; journeys still in progress also get the engine's state and, when active, the
    step they wait on, so that they can be resumed. (Retrieving a journey needs no state row.)"""
    with transaction.atomic():
        Journey.objects.bulk_create(journeys)
        JourneyState.objects.bulk_create(
            JourneyState(journey=journey, input={"seeded": True})
            for journey in journeys if journey.status not in FINAL_STATUSES
        )
        active = [journey for journey in journeys if journey.status == JourneyStatus.ACTIVE]
        waits = [rng.choice(WAITS[workflows_by_id[journey.workflow_id].template]) for journey in active]
        log_steps = JourneyLogStep.objects.bulk_create(
            # An active journey has run, so last_executed_at is set; created_at stands in only for the type.
            JourneyLogStep(journey=journey, step_id=step_id, step_type=step_type,
                           started_at=journey.last_executed_at or journey.created_at,
                           status={"name": "waiting"}, events=[])
            for journey, (step_id, step_type, _kind) in zip(active, waits, strict=True)
        )
        JourneyWait.objects.bulk_create(
            JourneyWait(journey=journey, step_id=step_id, step_type=step_type, kind=kind, log_step=log_step)
            for journey, (step_id, step_type, kind), log_step in zip(active, waits, log_steps, strict=True)
        )


def seed(*, journeys: int, workflows: int, seed_value: int = SEED) -> float:
    """Creates ``workflows`` workflows and ``journeys`` journeys; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    seeded = create_workflows(workflows, rng)
    by_id = {workflow.version.workflow_id: workflow for workflow in seeded}
    for offset in range(0, journeys, BATCH_SIZE):
        batch = [build_journey(rng.choice(seeded), rng, now) for _ in range(min(BATCH_SIZE, journeys - offset))]
        insert_batch(batch, by_id, rng)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Timing:
    label: str
    median_ms: float
    slowest_ms: float
    total_count: int


def _token(client: Client) -> str:
    response = client.post("/auth/open/connect/token", {
        "grant_type": "client_credentials", "scope": "signicat-api",
        "client_id": settings.SANDBOX_CLIENT_ID, "client_secret": settings.SANDBOX_CLIENT_SECRET,
    })
    if response.status_code != 200:
        raise RuntimeError(f"the token endpoint answered {response.status_code}")
    return response.json()["access_token"]


def measure(*, runs: int = 7) -> list[Timing]:
    """Times journeys listings and a retrieval through the full request path; ``runs`` runs each."""
    client = Client()
    headers = {"Authorization": f"Bearer {_token(client)}"}
    any_workflow = Journey.objects.values_list("workflow_id", flat=True).first()
    any_journey = Journey.objects.values_list("id", flat=True).order_by("-created_at").first()
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("status=active, sort=-lastExecutedAt, limit=100", "/mint/journeys",
         {"status": "active", "sort": "-lastExecutedAt", "limit": 100}),
        ("status=finished, search=Hansen, sort=-lastExecutedAt, limit=100", "/mint/journeys",
         {"status": "finished", "search": "Hansen", "sort": "-lastExecutedAt", "limit": 100}),
        ("workflowId, status=active, sort=-createdAt, limit=100", "/mint/journeys",
         {"workflowId": any_workflow, "status": "active", "sort": "-createdAt", "limit": 100}),
        ("no filter, sort=name, offset=50000, limit=100", "/mint/journeys",
         {"sort": "name", "offset": 50000, "limit": 100}),
        ("retrieve one journey", f"/mint/journeys/{any_journey}", {}),
    ]
    timings = []
    for label, path, params in cases:
        samples = []
        body: dict[str, Any] = {}
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path, params, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{label}: the sandbox answered {response.status_code}")
            body = response.json()
        timings.append(Timing(label, statistics.median(samples), max(samples), body.get("totalCount", 1)))
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox seed", description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=100_000, help="journeys to add (default 100000)")
    parser.add_argument("--workflows", type=int, default=20, help="workflows to create (default 20)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per listing (default 7)")
    parser.add_argument("--measure-only", action="store_true", help="time the listings without adding data")
    args = parser.parse_args(argv)
    if args.journeys < 0 or args.workflows < 1 or args.runs < 1:
        parser.error("--journeys must be >= 0, --workflows and --runs >= 1")
    from sandbox.server import prepare_database

    prepare_database()
    if not args.measure_only:
        seconds = seed(journeys=args.journeys, workflows=args.workflows)
        print(f"Added {args.workflows} workflows and {args.journeys} journeys in {seconds:.1f} s.")
    total = Journey.objects.count()
    print(f"With {total:,} journeys in the database ({args.runs} runs each, through the full request path):")
    for timing in measure(runs=args.runs):
        print(f"  {timing.label}: median {timing.median_ms:.1f} ms, slowest {timing.slowest_ms:.1f} ms "
              f"(totalCount {timing.total_count:,})")
    return 0
