"""The "where journeys wait" benchmark (issue 14): ``.venv/bin/python -m bench.steps``.

Fills a throw-away database (``BENCH_STEPS_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/mintportal_bench_steps``, dropped and created; a ``sqlite:///`` URL works
too) with ``--journeys`` mirror rows over 20 workflows, half of them in one busy workflow (``wf-0``), of 8 steps
each: a fifth wait at a step (a ``WaitingStep`` row), a tenth faulted with an alert raised at a step, the rest
finished; every journey has ``--visits`` step visits whose end times spread over 60 days (about half inside the
30-day window). Then it times what one workflow graph's figures ask of the database, per persona, for the busy
workflow and a small one: the waiting counts, the faulted counts, the medians, and all three together
(``workflow_step_stats`` with the medians read, and as the page region runs it, with the medians from the cache).
Each repetition starts from a fresh user object, as each request does, so the scope resolution is included. The
baseline, timed in the same run, is a plain count of the workflow's journeys: the cheapest question about the same
rows.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import percentile, timed
from bench.world import database_only_setup

WORKFLOWS = 20
STEPS = [f"s{n}" for n in range(8)]
BATCH = 5000
# The figures' "now": every visit ends within the 60 days before it (the run's own clock, so the region's cached
# medians, read at the real time, cover the same window).
NOW = datetime.now(UTC)



def _workflow(index: int) -> str:
    # Every other journey is the busy workflow's; the rest are spread over the other 19.
    return "wf-0" if index % 2 == 0 else f"wf-{1 + (index // 2) % (WORKFLOWS - 1)}"


def fill(*, journeys: int, visits: int) -> None:
    """Mirror rows, waiting steps and step visits (large INSERTs; fast, not realistic)."""
    from django.contrib.auth.models import Group, User

    from accounts.models import Action, Scope, WorkflowRecord
    from journeys.models import Journey, JourneyStatus, StepVisit, WaitingStep

    rng = random.Random(14)
    WorkflowRecord.objects.bulk_create(
        WorkflowRecord(id=f"wf-{n}", name=f"Workflow {n}", tags=["contracts"] if n % 4 == 0 else ["other"],
                       version=1, seen_at=NOW)
        for n in range(WORKFLOWS)
    )
    team = Group.objects.create(name="Contracts")
    Scope.objects.create(team=team, name="Contracts", workflow_tags=["contracts"], actions=[Action.VIEW])
    User.objects.create_user("handler").groups.add(team)
    User.objects.create_superuser("admin")

    for first in range(0, journeys, BATCH):
        rows, waiting, history = [], [], []
        for index in range(first, min(journeys, first + BATCH)):
            journey_id = f"j-{index:07d}"
            workflow_id = _workflow(index)
            at = NOW - timedelta(seconds=rng.uniform(0, 60 * 86400))
            roll = rng.random()
            status = (JourneyStatus.ACTIVE if roll < 0.2 else JourneyStatus.FAULTED if roll < 0.3
                      else JourneyStatus.FINISHED)
            at_step = rng.choice(STEPS)
            alerts = ([{"stepId": at_step, "severity": "critical", "message": "Faulted"}]
                      if status == JourneyStatus.FAULTED else [])
            rows.append(Journey(
                id=journey_id, workflow_id=workflow_id, workflow_name="Workflow", version=1, status=status,
                name=f"Journey {index}", created_at=at, last_executed_at=at, seen_at=at, alerts=alerts,
                alert_count=len(alerts), alert_level=3 if alerts else 0, pending_steps=status == JourneyStatus.ACTIVE,
                waiting_since=at if status == JourneyStatus.ACTIVE else None,
            ))
            if status == JourneyStatus.ACTIVE:
                waiting.append(WaitingStep(journey_id=journey_id, step_id=at_step, step_type="suspend"))
            ended = at
            if status == JourneyStatus.FAULTED:
                # Where it faulted, as its execution log says (journeys.selectors.faulted_at_step).
                history.append(StepVisit(journey_id=journey_id, workflow_id=workflow_id, step_id=at_step,
                                         position=visits, started_at=at, ended_at=at, seconds=0.0, faulted=True))
            for position in range(visits):
                seconds = rng.expovariate(1 / 600)
                history.append(StepVisit(journey_id=journey_id, workflow_id=workflow_id,
                                         step_id=STEPS[position % len(STEPS)], position=position,
                                         started_at=ended - timedelta(seconds=seconds), ended_at=ended,
                                         seconds=seconds))
                ended -= timedelta(seconds=seconds)
        Journey.objects.bulk_create(rows)
        WaitingStep.objects.bulk_create(waiting)
        StepVisit.objects.bulk_create(history)



def measure(repeat: int) -> list[tuple[str, list[float]]]:
    from django.contrib.auth.models import User

    from journeys import step_stats
    from journeys.models import Journey

    def fresh(name: str) -> User:
        return User.objects.get(username=name)

    def figure(reader: Callable[..., Any], name: str, workflow_id: str) -> Callable[[], Any]:
        return lambda: reader(user=fresh(name), workflow_id=workflow_id)

    def all_three(name: str, workflow_id: str) -> Callable[[], Any]:
        return lambda: step_stats.workflow_step_stats(user=fresh(name), workflow_id=workflow_id, step_ids=STEPS,
                                                      now=NOW)

    def region(name: str, workflow_id: str) -> Callable[[], Any]:
        return lambda: step_stats.workflow_step_stats(user=fresh(name), workflow_id=workflow_id, step_ids=STEPS)

    def median(name: str, workflow_id: str) -> Callable[[], Any]:
        return lambda: step_stats.step_median_seconds(user=fresh(name), workflow_id=workflow_id, now=NOW)

    def baseline(workflow_id: str) -> Callable[[], Any]:
        return lambda: Journey.objects.filter(workflow_id=workflow_id).count()

    figures = []
    for workflow_id in ("wf-0", "wf-4"):
        size = Journey.objects.filter(workflow_id=workflow_id).count()
        figures.append((f"baseline: count of {workflow_id}'s {size} journeys",
                        timed(baseline(workflow_id), repeat)))
        for name in ("admin", "handler"):
            label = f"{name}, {workflow_id}"
            figures.append((f"{label}: waiting counts",
                            timed(figure(step_stats.step_waiting_counts, name, workflow_id), repeat)))
            figures.append((f"{label}: faulted counts",
                            timed(figure(step_stats.step_faulted_counts, name, workflow_id), repeat)))
            figures.append((f"{label}: medians (30 days)", timed(median(name, workflow_id), repeat)))
            figures.append((f"{label}: all three, medians read", timed(all_three(name, workflow_id), repeat)))
            figures.append((f"{label}: the region (medians cached)", timed(region(name, workflow_id), repeat)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=5, help="step visits per journey")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    database_only_setup(name="steps")
    from django.db import connection

    started = time.perf_counter()
    fill(journeys=args.journeys, visits=args.visits)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As autovacuum would: statistics for the planner, and the visibility map that index-only scans need.
            cursor.execute("VACUUM ANALYZE")
    print(f"database: {connection.display_name}; filled {args.journeys} journeys with {args.visits} step visits "
          f"each in {time.perf_counter() - started:.1f} s")
    baseline = 1.0
    for label, seconds in measure(args.repeat):
        median = statistics.median(seconds)
        if label.startswith("baseline"):
            baseline = median
        p95 = percentile(seconds, 0.95)
        print(f"{label:50} median {median * 1000:8.2f} ms  p95 {p95 * 1000:8.2f} ms  "
              f"{median / baseline:6.1f}× baseline")


if __name__ == "__main__":
    main()
