"""The "My work" benchmark (issue 13): ``.venv/bin/python -m bench.inbox``.

Fills a throw-away database (``BENCH_INBOX_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/mintportal_bench_inbox``, dropped and created; a ``sqlite:///`` URL works
too) with ``--journeys`` mirror rows over 20 workflows, of which ``--waiting`` wait on a person (half on a suspend
step, half on an approval) and as many again wait on an end user (a form, which no inbox shows), with claims on
a fifth of the waiting work and approval votes on a tenth. Then it times, per persona, what one "My work" view
asks of the database: the first page of rows (``inbox_page``), the navigation count (``inbox_count``) and the tab
counts (``inbox_tab_counts``). Each repetition starts from a fresh user object, as each request does, so the
scope resolution is included. The baseline, timed in the same run, is a plain count of the active journeys:
the cheapest question about the same rows.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import percentile, timed
from bench.world import database_only_setup

WORKFLOWS = 20
BATCH = 5000



def fill(*, journeys: int, waiting: int) -> None:
    """Mirror rows, waiting steps, claims and votes (large INSERTs; fast, not realistic)."""
    from django.contrib.auth.models import Group, User

    from accounts.models import Action, Scope, WorkflowRecord
    from approvals.models import ApprovalVote
    from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Claim, Journey, JourneyStatus, WaitingStep

    start = datetime(2026, 1, 1, tzinfo=UTC)
    WorkflowRecord.objects.bulk_create(
        WorkflowRecord(id=f"wf-{n}", name=f"Workflow {n}", tags=["contracts"] if n % 4 == 0 else ["other"],
                       version=1, seen_at=start)
        for n in range(WORKFLOWS)
    )
    handlers, approvers = Group.objects.create(name="Handlers"), Group.objects.create(name="Approvers")
    Scope.objects.create(team=handlers, name="All", all_workflows=True, actions=[Action.VIEW, Action.CONTINUE])
    Scope.objects.create(team=approvers, name="Contracts", workflow_tags=["contracts"],
                         actions=[Action.VIEW, Action.APPROVE])
    users = {name: User.objects.create_user(name) for name in ("handler", "approver", "narrow")}
    users["handler"].groups.add(handlers)
    users["approver"].groups.add(approvers)
    narrow = Group.objects.create(name="Narrow")
    Scope.objects.create(team=narrow, name="Two", workflow_ids=["wf-1", "wf-2"],
                         actions=[Action.VIEW, Action.CONTINUE, Action.APPROVE])
    users["narrow"].groups.add(narrow)
    User.objects.create_superuser("admin")

    # Of the active journeys: the first `waiting` wait on a person, the next `waiting` on an end user's form.
    active = min(journeys, 2 * waiting + journeys // 10)
    for first in range(0, journeys, BATCH):
        rows, steps = [], []
        for index in range(first, min(journeys, first + BATCH)):
            at = start + timedelta(seconds=index)
            is_active = index < active
            rows.append(Journey(
                id=f"j-{index:07d}", workflow_id=f"wf-{index % WORKFLOWS}", workflow_name="Workflow", version=1,
                status=JourneyStatus.ACTIVE if is_active else JourneyStatus.FINISHED, name=f"Journey {index}",
                created_at=at, last_executed_at=at, finished_at=None if is_active else at,
                pending_steps=is_active, waiting_since=at if is_active else None,
                detail_seen_at=at if is_active else None, seen_at=at,
            ))
            if index < waiting:
                step_type = SUSPEND_STEP if index % 2 else APPROVAL_STEP
                steps.append(WaitingStep(journey_id=f"j-{index:07d}", step_id="work", step_type=step_type))
            elif index < 2 * waiting:
                steps.append(WaitingStep(journey_id=f"j-{index:07d}", step_id="form", step_type="form"))
        Journey.objects.bulk_create(rows)
        WaitingStep.objects.bulk_create(steps)
    Claim.objects.bulk_create(
        Claim(journey_id=f"j-{index:07d}", step_id="work", user=users["handler"], claimed_at=start)
        for index in range(0, waiting, 5)
    )
    ApprovalVote.objects.bulk_create(
        ApprovalVote(journey_id=f"j-{index:07d}", step_id="work", occurrence=1, workflow_id=f"wf-{index % WORKFLOWS}",
                     user=users["approver"], username="approver", at=start)
        for index in range(0, waiting, 20)
    )



def measure(repeat: int) -> list[tuple[str, list[float]]]:
    from django.contrib.auth.models import User

    from approvals import selectors
    from approvals.selectors import InboxFilters
    from journeys.models import Journey, JourneyStatus

    def fresh(name: str) -> User:
        return User.objects.get(username=name)

    figures = [("baseline: count of active journeys",
                timed(lambda: Journey.objects.filter(status=JourneyStatus.ACTIVE).count(), repeat))]
    def first_page(name: str) -> Callable[[], Any]:
        return lambda: selectors.inbox_page(user=fresh(name), filters=InboxFilters(), page_number=1)

    def nav_count(name: str) -> Callable[[], Any]:
        return lambda: selectors.inbox_count(user=fresh(name))

    def tab_counts(name: str) -> Callable[[], Any]:
        return lambda: selectors.inbox_tab_counts(user=fresh(name))

    for name in ("handler", "approver", "narrow", "admin"):
        figures.append((f"{name}: first page of rows", timed(first_page(name), repeat)))
        figures.append((f"{name}: navigation count", timed(nav_count(name), repeat)))
        figures.append((f"{name}: tab counts", timed(tab_counts(name), repeat)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--waiting", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    database_only_setup(name="inbox")
    from django.db import connection

    started = time.perf_counter()
    fill(journeys=args.journeys, waiting=args.waiting)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    print(f"database: {connection.display_name}; filled {args.journeys} journeys, {args.waiting} waiting on a "
          f"person, in {time.perf_counter() - started:.1f} s")
    figures = measure(args.repeat)
    baseline = statistics.median(figures[0][1])
    for label, seconds in figures:
        median = statistics.median(seconds)
        p95 = percentile(seconds, 0.95)
        print(f"{label:45} median {median * 1000:8.2f} ms  p95 {p95 * 1000:8.2f} ms  "
              f"{median / baseline:6.1f}× baseline")


if __name__ == "__main__":
    main()
