"""A decision left pending by a process that died between committing its row and recording Mint's answer is
reconciled with Mint once it is older than the lease: marked sent when Mint has it, released when the step still
waits for it. A younger pending row may still be in flight and is never touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from approvals.models import Decision
from approvals.selectors import approval_occurrence
from approvals.services import (
    DECISION_LEASE,
    RECOVER_ACTION,
    AlreadyDecided,
    DecisionRecovery,
    approval_decide,
    decision_recover_stuck,
)
from journeys.models import Journey

pytestmark = pytest.mark.django_db


def crashed_while_sending(journey: Journey, user, *, age: timedelta, mint=None) -> Decision:
    """The row as a killed worker leaves it: committed pending, ``age`` ago; with ``mint``, Mint got the call."""
    message = f"Approved by {user.get_username()}"
    decision = Decision.objects.create(
        journey_id=journey.id, step_id="check", occurrence=1, workflow_id=journey.workflow_id, approved=True,
        message=message, decided_by=user, decided_by_username=user.get_username(),
        decided_at=timezone.now() - age)
    if mint is not None:
        mint.approve_journey(journey.id, step_id="check", approved=True, message=message)
    return decision


def recoveries(journey: Journey) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(journey_id=journey.id, action=RECOVER_ACTION).order_by("id"))


def test_a_stuck_decision_mint_received_is_marked_sent_and_audited_as_confirmed_late(
        sandbox, approval_workflow, start, approver, mint):
    journey = start(approval_workflow(tags=["onboarding"]), "S-1")
    decision = crashed_while_sending(journey, approver, age=DECISION_LEASE + timedelta(seconds=1), mint=mint)
    sandbox.reset_counters()

    assert decision_recover_stuck() == DecisionRecovery(confirmed=1)

    decision.refresh_from_db()
    assert decision.status == Decision.Status.SENT
    assert sandbox.count("approveJourney") == 0
    assert approval_occurrence(journey_id=journey.id, step_id="check") == 2
    [event] = recoveries(journey)
    assert event.summary.startswith("Confirmed late: Mint had the approval by")
    assert event.actor_username == "system"


def test_a_stuck_decision_mint_never_got_is_released_and_can_be_decided_again(
        sandbox, approval_workflow, start, approver, mint):
    journey = start(approval_workflow(tags=["onboarding"]), "S-2")
    crashed_while_sending(journey, approver, age=DECISION_LEASE + timedelta(seconds=1))
    sandbox.reset_counters()

    assert decision_recover_stuck() == DecisionRecovery(released=1)

    assert not Decision.objects.filter(journey_id=journey.id).exists()
    [event] = recoveries(journey)
    assert event.summary.startswith("Released: Mint never got the approval by")
    result = approval_decide(user=approver, journey_id=journey.id, step_id="check", approved=True)
    assert result.sent
    assert sandbox.count("approveJourney") == 1
    assert Decision.objects.get(journey_id=journey.id).status == Decision.Status.SENT


def test_a_pending_decision_just_inside_the_lease_is_never_touched(sandbox, approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "S-3")
    decision = crashed_while_sending(journey, approver, age=DECISION_LEASE - timedelta(seconds=5))
    sandbox.reset_counters()

    assert decision_recover_stuck() == DecisionRecovery()

    decision.refresh_from_db()
    assert decision.status == Decision.Status.PENDING
    assert sandbox.count("getJourney") == 0
    assert recoveries(journey) == []
    with pytest.raises(AlreadyDecided):
        approval_decide(user=approver, journey_id=journey.id, step_id="check", approved=True, occurrence=1)
    decision.refresh_from_db()
    assert decision.status == Decision.Status.PENDING


def test_the_page_releases_a_stuck_decision_it_meets_and_decides(sandbox, approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "S-4")
    crashed_while_sending(journey, approver, age=DECISION_LEASE + timedelta(seconds=1))
    sandbox.reset_counters()

    result = approval_decide(user=approver, journey_id=journey.id, step_id="check", approved=True, occurrence=1)

    assert result.sent
    assert sandbox.count("approveJourney") == 1
    assert len(recoveries(journey)) == 1
    assert Decision.objects.get(journey_id=journey.id).status == Decision.Status.SENT


def test_the_page_says_a_stuck_decision_mint_received_was_decided(sandbox, approval_workflow, start, approver,
                                                                   mint):
    journey = start(approval_workflow(tags=["onboarding"]), "S-5")
    crashed_while_sending(journey, approver, age=DECISION_LEASE + timedelta(seconds=1), mint=mint)
    sandbox.reset_counters()

    with pytest.raises(AlreadyDecided) as raised:
        approval_decide(user=approver, journey_id=journey.id, step_id="check", approved=True, occurrence=1)

    assert raised.value.message.startswith(f"Already decided by {approver.get_username()}")
    assert sandbox.count("approveJourney") == 0
    assert Decision.objects.get(journey_id=journey.id).status == Decision.Status.SENT
