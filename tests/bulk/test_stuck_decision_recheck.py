"""An item whose worker died after committing the journey's Decision row (pending) and before recording Mint's
answer: past the decision's lease its re-check settles the row with Mint (confirmed, or released and decided
again); inside the lease it is never touched and the item says the outcome is unknown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from approvals.models import Decision
from approvals.services import DECISION_LEASE
from bulk.models import BulkItem, ItemStatus
from bulk.services import bulk_job_confirm, bulk_job_requeue_stale
from tests.bulk.conftest import prepare, run_all
from tests.redis_server import filesystem_broker_options, publishing_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_broker(tmp_path: Path):
    """Publishes the requeue's messages to a folder of the test's own (no worker takes them)."""
    options = filesystem_broker_options(tmp_path / "broker")
    with publishing_to("filesystem://", options):
        yield


def died_sending(item: BulkItem, user, *, age: timedelta, mint=None) -> Decision:
    """The item and its decision as a worker killed while sending the decision leaves them."""
    BulkItem.objects.filter(pk=item.pk).update(status=ItemStatus.RUNNING, token="dead-worker",
                                               claimed_at=timezone.now() - timedelta(minutes=10))
    message = f"Approved by {user.get_username()}: bulk"
    decision = Decision.objects.create(
        journey_id=item.journey_id, step_id="check", occurrence=1, workflow_id=item.workflow_id, approved=True,
        reason="bulk", message=message, decided_by=user, decided_by_username=user.get_username(),
        decided_at=timezone.now() - age)
    if mint is not None:
        mint.approve_journey(item.journey_id, step_id="check", approved=True, message=message)
    return decision


@pytest.fixture
def stuck(sandbox, approval_workflow, start, approver, private_broker):
    workflow = approval_workflow(tags=["onboarding"])
    job = prepare(approver, "approve", [start(workflow, "D-1")], reason="bulk")
    bulk_job_confirm(user=approver, job_id=job.id)
    return job, BulkItem.objects.get(job=job)


def test_a_decision_mint_never_got_is_released_and_the_item_decided_once(sandbox, stuck, approver):
    job, item = stuck
    died_sending(item, approver, age=DECISION_LEASE + timedelta(seconds=1))
    sandbox.reset_counters()

    bulk_job_requeue_stale()
    run_all(job)

    item.refresh_from_db()
    assert item.status == ItemStatus.DONE
    assert item.outcome.startswith("Checked after a crash, then acted")
    assert sandbox.count("approveJourney") == 1
    assert Decision.objects.get(journey_id=item.journey_id).status == Decision.Status.SENT


def test_a_decision_mint_got_is_confirmed_late_and_not_sent_again(sandbox, stuck, approver, mint):
    job, item = stuck
    decision = died_sending(item, approver, age=DECISION_LEASE + timedelta(seconds=1), mint=mint)
    sandbox.reset_counters()

    bulk_job_requeue_stale()
    run_all(job)

    item.refresh_from_db()
    decision.refresh_from_db()
    assert (item.status, decision.status) == (ItemStatus.DONE, Decision.Status.SENT)
    assert "confirmed late" in item.outcome
    assert sandbox.count("approveJourney") == 0


def test_a_decision_inside_its_lease_is_left_alone_and_reported_unknown(sandbox, stuck, approver):
    job, item = stuck
    decision = died_sending(item, approver, age=DECISION_LEASE - timedelta(seconds=5))
    sandbox.reset_counters()

    bulk_job_requeue_stale()
    run_all(job)

    item.refresh_from_db()
    decision.refresh_from_db()
    assert (item.status, decision.status) == (ItemStatus.UNKNOWN, Decision.Status.PENDING)
    assert sandbox.count("approveJourney") == 0
