"""Every counted approval vote is an audit event of its own, even when its request then loses the race to decide."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from approvals.models import ApprovalVote, Decision
from approvals.services import VOTE_ACTION, AlreadyDecided, approval_decide

pytestmark = pytest.mark.django_db


def test_a_counted_vote_whose_request_loses_the_race_to_decide_is_still_an_event(
    sandbox, approval_workflow, start, approver, approver2
):
    journey = start(approval_workflow(tags=["onboarding"]), "V-1")
    sandbox.reset_counters()
    rival = {"inserted": False}

    def rival_decides_first(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        # approver2's decision commits right after approver's vote is counted, before approver's own decision.
        if sql.startswith("SELECT") and '"approvals_approvalvote"' in sql and "ORDER BY" in sql \
                and not rival["inserted"]:
            rival["inserted"] = True
            Decision.objects.create(
                journey_id=journey.id, step_id="check", occurrence=1, workflow_id=journey.workflow_id,
                approved=True, decided_by=approver2, decided_by_username=approver2.username,
                decided_at=timezone.now(),
            )
        return result

    with connection.execute_wrapper(rival_decides_first), pytest.raises(AlreadyDecided, match="approver2"):
        approval_decide(user=approver, journey_id=journey.id, step_id="check", approved=True,
                        reason="Checked", occurrence=1)

    assert rival["inserted"] and sandbox.count("approveJourney") == 0
    assert ApprovalVote.objects.filter(user=approver).count() == 1
    [vote] = AuditEvent.objects.filter(journey_id=journey.id, action=VOTE_ACTION)
    assert (vote.actor_username, vote.outcome, vote.summary) == ("approver", "ok", "Approval 1 of 1 recorded")
    assert {key: vote.detail[key] for key in ("step_id", "occurrence", "vote", "required")} == {
        "step_id": "check", "occurrence": 1, "vote": 1, "required": 1}
    assert not AuditEvent.objects.filter(journey_id=journey.id, action="journey.approve").exists()


def test_a_repeated_approval_counts_once_and_records_one_vote(sandbox, approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["contracts"]), "V-2")

    for _ in range(3):
        approval_decide(user=approver, journey_id=journey.id, step_id="check", approved=True, occurrence=1)

    assert AuditEvent.objects.filter(journey_id=journey.id, action=VOTE_ACTION).count() == 1
