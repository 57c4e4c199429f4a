"""What a bulk decision costs in Mint: one live read to check each journey, one approve call, and one read back for
the chunk's batch mirror refresh; so the speed-up cannot silently regress to more calls per journey."""

from __future__ import annotations

import pytest

from approvals.models import Decision
from bulk.models import BulkItem, ItemStatus
from journeys.models import Journey, JourneyStatus, WaitingStep
from tests.bulk.conftest import confirm_and_run, prepare

pytestmark = pytest.mark.django_db

# Mint calls per decided journey: the check's read, the approve call and the batch refresh's read.
CALLS_PER_JOURNEY = 3


def test_a_bulk_approve_makes_at_most_three_mint_calls_per_journey(sandbox, approval_workflow, start, approver):
    workflow = approval_workflow(tags=["onboarding"])
    journeys = [start(workflow, f"K-{n}") for n in range(6)]
    job = prepare(approver, "approve", journeys)
    sandbox.reset_counters()

    confirm_and_run(approver, job)

    counters = sandbox.counters()
    assert counters.get("approveJourney", 0) == 6
    assert counters.get("getJourney", 0) == 12
    assert sum(counters.values()) <= CALLS_PER_JOURNEY * 6
    assert set(BulkItem.objects.filter(job=job).values_list("status", flat=True)) == {ItemStatus.DONE}
    assert Decision.objects.filter(journey_id__in=[j.id for j in journeys], status=Decision.Status.SENT).count() == 6


def test_the_batch_refresh_leaves_the_mirror_as_a_single_decision_would(sandbox, approval_workflow, start, approver):
    workflow = approval_workflow(tags=["onboarding"])
    journeys = [start(workflow, f"M-{n}") for n in range(3)]
    job = prepare(approver, "reject", journeys, reason="Bulk reject")

    confirm_and_run(approver, job)

    rows = Journey.objects.filter(pk__in=[j.id for j in journeys])
    assert {row.status for row in rows} == {JourneyStatus.FAULTED}
    assert all(row.detail_seen_at is not None and row.detail_seen_at >= row.last_executed_at for row in rows)
    assert not WaitingStep.objects.filter(journey_id__in=[j.id for j in journeys]).exists()


def test_a_journey_that_stopped_waiting_is_refused_and_still_refreshed(sandbox, approval_workflow, start, approver,
                                                                        mint):
    workflow = approval_workflow(tags=["onboarding"])
    moved, waiting = start(workflow, "S-1"), start(workflow, "S-2")
    job = prepare(approver, "approve", [moved, waiting])
    # Someone decided it in Mint directly after the dry run: the portal's mirror still shows it waiting.
    mint.approve_journey(moved.id, step_id="check", approved=True)
    sandbox.reset_counters()

    confirm_and_run(approver, job)

    statuses = dict(BulkItem.objects.filter(job=job).values_list("journey_id", "status"))
    assert statuses == {moved.id: ItemStatus.REFUSED, waiting.id: ItemStatus.DONE}
    assert sandbox.count("approveJourney") == 1
    assert list(WaitingStep.objects.filter(journey_id=moved.id).values_list("step_id", flat=True)) == ["after"]
