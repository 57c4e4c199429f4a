"""Every launch's outcome is an audit event of its own: started (with the journey id), failed or needing review
(with Mint's trace id); bulk rows included, one event per row."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.selectors import audit_chain_verify
from launches.models import Launch, LaunchStatus
from launches.services import (
    bulk_launch_confirm,
    bulk_launch_run_chunk,
    bulk_launch_upload,
    launch_create,
    launch_requeue_stale,
    launch_start,
)

pytestmark = pytest.mark.django_db

PEOPLE = {"email": "ada@example.com", "fullName": "Ada Lovelace"}


def outcome_events(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="journey.launch.", **filters).order_by("id"))


def launched(operator, launch_workflow) -> Launch:
    launch = launch_create(workflow_id=launch_workflow.id, input=PEOPLE, journey_url_ttl=600, actor=operator)
    return launch_start(launch_id=launch.id)


def test_a_started_launch_records_who_started_which_journey(operator, launch_workflow, sandbox) -> None:
    launch = launched(operator, launch_workflow)

    assert launch.status == LaunchStatus.STARTED
    [event] = outcome_events()
    assert (event.action, event.outcome, event.actor_username, event.workflow_id, event.journey_id) == (
        "journey.launch.started", "ok", "operator", launch_workflow.id, launch.journey_id)
    assert event.detail["launch_id"] == str(launch.id) and event.detail["step_id"] == "details"
    assert launch.journey_id in event.summary
    # Mint's trace id of the start answer, to quote to Signicat about this journey's creation.
    assert re.fullmatch(r"[0-9a-f]{32}", event.trace_id) and launch.trace_id == event.trace_id
    # The journey URL lets whoever holds it act as the end user: it stays out of the trail.
    assert launch.journey_url not in str(event.detail) + event.summary
    requested = AuditEvent.objects.get(action="journey.launch")
    assert requested.detail["launch_id"] == str(launch.id)


@pytest.mark.parametrize(("status", "action", "outcome"), [
    (403, "journey.launch.failed", "failed"),
    (500, "journey.launch.needs_review", "unknown"),
])
def test_a_refused_or_unconfirmed_launch_records_mints_trace_id(
    status, action, outcome, operator, launch_workflow, sandbox
) -> None:
    sandbox.add_fault(path=rf"^/mint/workflows/{launch_workflow.id}/journeys$", method="POST", status=status)

    launch = launched(operator, launch_workflow)

    [event] = outcome_events()
    assert launch.trace_id
    assert (event.action, event.outcome, event.trace_id, event.journey_id) == (action, outcome, launch.trace_id, "")
    assert event.detail["error"] == launch.error and event.detail["launch_id"] == str(launch.id)


def test_a_claim_abandoned_by_a_dead_worker_is_recorded_as_needing_review(operator, launch_workflow) -> None:
    old = timezone.now() - timedelta(minutes=10)
    abandoned = Launch.objects.create(
        key="abandoned", workflow_id=launch_workflow.id, input=PEOPLE, journey_url_ttl=60, created_by=operator,
        created_at=old, status=LaunchStatus.STARTING, claimed_at=old, attempts=1,
    )

    launch_requeue_stale()
    launch_requeue_stale()

    [event] = outcome_events()
    assert (event.action, event.outcome, event.actor_username) == ("journey.launch.needs_review", "unknown", "operator")
    assert event.detail["launch_id"] == str(abandoned.id) and "before recording Mint's answer" in event.summary


def test_every_row_of_a_bulk_launch_records_its_own_outcome(operator, launch_workflow, sandbox) -> None:
    text = "email,fullName\n" + "".join(f"user{n}@example.com,User {n}\n" for n in range(4))
    bulk = bulk_launch_upload(workflow_id=launch_workflow.id, parameters=["email", "fullName"],
                              file=io.BytesIO(text.encode()), filename="people.csv", journey_url_ttl=60, actor=operator)
    bulk_launch_confirm(bulk_id=bulk.id, actor=operator)
    sandbox.add_fault(path=rf"^/mint/workflows/{launch_workflow.id}/journeys$", method="POST", status=403, times=1)

    bulk_launch_run_chunk(bulk_id=bulk.id, first_row=2, last_row=5, final_attempt=True)

    rows = {launch.row_number: launch for launch in Launch.objects.filter(bulk=bulk)}
    events = outcome_events(detail__bulk_id=str(bulk.id))
    assert [(event.detail["row"], event.action) for event in events] == [
        (2, "journey.launch.failed"), (3, "journey.launch.started"), (4, "journey.launch.started"),
        (5, "journey.launch.started")]
    assert [event.journey_id for event in events[1:]] == [rows[n].journey_id for n in (3, 4, 5)]
    assert events[0].trace_id == rows[2].trace_id != ""
    assert audit_chain_verify().first_break is None
