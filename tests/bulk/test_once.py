"""Each journey is acted on at most once: a chunk delivered twice skips what is done, and an item a dead worker was
running is re-checked against the portal's records and Mint, never blindly repeated.

A "dead worker" here is the item's state as one leaves it (running under a token nobody renews); the test with a
real worker killed by SIGKILL is in test_worker_crash.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from approvals.models import ApprovalVote
from approvals.services import approval_decide
from bulk.models import BulkItem, ItemStatus, JobStatus
from bulk.services import bulk_job_confirm, bulk_job_recover, bulk_job_requeue_stale
from journeys.services.notes import journey_note_create
from tests.bulk.conftest import prepare, run_all
from tests.redis_server import filesystem_broker_options, publishing_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_broker(tmp_path: Path):
    """Publishes the requeue's messages to a folder of the test's own (no worker takes them)."""
    options = filesystem_broker_options(tmp_path / "broker")
    with publishing_to("filesystem://", options):
        yield Path(str(options["data_folder_in"]))


def died_holding(item: BulkItem, *, minutes_ago: int = 10) -> None:
    """The item as a worker leaves it when it is killed after taking it."""
    BulkItem.objects.filter(pk=item.pk).update(status=ItemStatus.RUNNING, token="dead-worker",
                                               claimed_at=timezone.now() - timedelta(minutes=minutes_ago))


def test_a_chunk_delivered_twice_acts_once(sandbox, approval_workflow, start, approver):
    workflow = approval_workflow(tags=["onboarding"])
    journeys = [start(workflow, f"T-{n}") for n in range(3)]
    job = prepare(approver, "approve", journeys)
    bulk_job_confirm(user=approver, job_id=job.id)
    sandbox.reset_counters()

    run_all(job)
    run_all(job)

    assert sandbox.count("approveJourney") == 3
    assert set(BulkItem.objects.filter(job=job).values_list("status", flat=True)) == {ItemStatus.DONE}


def test_an_approval_made_before_the_crash_is_found_done_and_not_sent_again(
    sandbox, approval_workflow, start, approver, private_broker
):
    workflow = approval_workflow(tags=["onboarding"])
    sent, untouched = start(workflow, "C-1"), start(workflow, "C-2")
    job = prepare(approver, "approve", [sent, untouched])
    bulk_job_confirm(user=approver, job_id=job.id)
    first, second = BulkItem.objects.filter(job=job).order_by("position")
    # The dead worker took both; it told Mint about the first, then died before recording it.
    died_holding(first)
    died_holding(second)
    approval_decide(user=approver, journey_id=sent.id, step_id="check", approved=True)
    BulkItem.objects.filter(pk=first.pk).update(claimed_at=timezone.now() - timedelta(minutes=10))
    sandbox.reset_counters()

    assert bulk_job_requeue_stale() == 1
    assert list(private_broker.iterdir())
    run_all(job)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ItemStatus.DONE, ItemStatus.DONE)
    assert first.outcome.startswith("Done before the crash")
    assert second.outcome.startswith("Checked after a crash, then acted")
    assert sandbox.count("approveJourney") == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FINISHED


def test_a_note_whose_worker_died_is_marked_outcome_unknown_rather_than_added_twice(
    sandbox, suspend_workflow, start, case_handler, mint, private_broker
):
    journey = start(suspend_workflow(tags=["onboarding"]), "N-1")
    job = prepare(case_handler, "note", [journey], content="Called")
    bulk_job_confirm(user=case_handler, job_id=job.id)
    item = BulkItem.objects.get(job=job)
    died_holding(item)
    # Mint got the note; the worker died before the audit event and the outcome were written.
    mint.create_journey_note(journey.id, content="Called")
    sandbox.reset_counters()

    bulk_job_recover(claimed_before=timezone.now())
    run_all(job)

    item.refresh_from_db()
    assert item.status == ItemStatus.UNKNOWN and "not repeated" in item.outcome
    assert sandbox.count("createJourneyNote") == 0
    assert len(mint.list_journey_notes(journey.id).data) == 1


def test_a_note_recorded_before_the_crash_is_found_done(sandbox, suspend_workflow, start, case_handler, private_broker):
    journey = start(suspend_workflow(tags=["onboarding"]), "N-2")
    job = prepare(case_handler, "note", [journey], content="Called")
    bulk_job_confirm(user=case_handler, job_id=job.id)
    item = BulkItem.objects.get(job=job)
    died_holding(item)
    BulkItem.objects.filter(pk=item.pk).update(claimed_at=timezone.now() - timedelta(seconds=1))
    journey_note_create(actor=case_handler, journey_id=journey.id, workflow_id=journey.workflow_id, content="Called")
    sandbox.reset_counters()

    bulk_job_recover(claimed_before=timezone.now())
    run_all(job)

    item.refresh_from_db()
    assert item.status == ItemStatus.DONE and item.outcome.startswith("Done before the crash")
    assert sandbox.count("createJourneyNote") == 0


def test_an_item_a_live_worker_holds_within_the_lease_is_left_alone_by_the_requeue(
    sandbox, approval_workflow, start, approver, private_broker
):
    journey = start(approval_workflow(tags=["onboarding"]), "L-1")
    job = prepare(approver, "approve", [journey])
    bulk_job_confirm(user=approver, job_id=job.id)
    item = BulkItem.objects.get(job=job)
    died_holding(item, minutes_ago=0)

    bulk_job_requeue_stale()

    item.refresh_from_db()
    assert item.status == ItemStatus.RUNNING and not list(private_broker.iterdir())


def test_a_vote_recorded_before_the_crash_is_counted_once_and_the_decision_it_led_to_is_made(
    sandbox, approval_workflow, start, approver, private_broker
):
    journey = start(approval_workflow(tags=["onboarding"]), "V-1")
    job = prepare(approver, "approve", [journey])
    bulk_job_confirm(user=approver, job_id=job.id)
    item = BulkItem.objects.get(job=job)
    died_holding(item)
    # The dead worker's approval_decide got as far as the vote: one approver suffices, but no decision was made.
    ApprovalVote.objects.create(journey_id=journey.id, step_id="check", occurrence=1, workflow_id=journey.workflow_id,
                                user=approver, username="approver", at=timezone.now())
    sandbox.reset_counters()

    bulk_job_recover(claimed_before=timezone.now())
    run_all(job)

    item.refresh_from_db()
    assert item.status == ItemStatus.DONE and item.outcome == (
        "Checked after a crash, then acted: Approved. Mint has been told.")
    assert sandbox.count("approveJourney") == 1
    assert ApprovalVote.objects.filter(journey_id=journey.id).count() == 1
