"""Deciding approvals against the sandbox: four-eyes rules (the workflow's approval policy, for every approver),
one decision in Mint, one audit event each."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from accounts.models import ApprovalPolicy, AuditEvent
from approvals.models import ApprovalVote, Decision
from approvals.selectors import InboxFilters, approval_panels, waiting_journeys
from approvals.services import AlreadyDecided, DecisionFailed, approval_decide
from mintportal.errors import NotAllowed, NotVisible, Refused

pytestmark = pytest.mark.django_db


def decide(user, journey, *, approved: bool = True, reason: str = "", occurrence: int | None = 1):
    return approval_decide(user=user, journey_id=journey.id, step_id="check", approved=approved, reason=reason,
                           occurrence=occurrence)


def fresh(user: User) -> User:
    """The user as the next request loads it (access is memoised per user object)."""
    return User.objects.get(pk=user.pk)


def decision_events(journey) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(journey_id=journey.id, action__in=["journey.approve", "journey.reject"])
                .order_by("id"))


def test_an_approval_reaches_mint_once_with_who_approved_and_why(sandbox, approval_workflow, start, mint, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "A-1")
    sandbox.reset_counters()

    result = decide(approver, journey, reason="Documents checked")

    assert result.sent and result.approved
    assert sandbox.count("approveJourney") == 1
    detail = mint.get_journey(journey.id)
    assert detail.step_data["check"] == {"approved": True, "message": "Approved by approver: Documents checked"}
    assert [step.step_id for step in detail.active_steps] == ["after"]
    decision = Decision.objects.get()
    assert (decision.status, decision.decided_by, decision.message) == (
        Decision.Status.SENT, approver, "Approved by approver: Documents checked")
    [event] = decision_events(journey)
    assert (event.action, event.outcome, event.actor, event.workflow_id, event.trace_id) == (
        "journey.approve", "ok", approver, journey.workflow_id, "")
    assert event.detail["reason"] == "Documents checked" and event.detail["step_id"] == "check"


def test_a_rejection_needs_a_reason_and_sends_it_to_mint(sandbox, approval_workflow, start, mint, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "R-1")
    sandbox.reset_counters()

    with pytest.raises(Refused, match="reason is required"):
        decide(approver, journey, approved=False, reason="  ")
    assert sandbox.count("approveJourney") == 0 and not decision_events(journey)

    decide(approver, journey, approved=False, reason="ID expired")

    detail = mint.get_journey(journey.id)
    assert detail.status == "faulted"
    assert detail.step_data["check"] == {"approved": False, "message": "Rejected by approver: ID expired"}
    [event] = decision_events(journey)
    assert (event.action, event.outcome, event.detail["reason"]) == ("journey.reject", "ok", "ID expired")


def test_the_launcher_may_not_approve_their_own_journey(sandbox, approval_workflow, start, approver, approver2):
    journey = start(approval_workflow(tags=["onboarding"]), "S-1", launched_by=approver)
    sandbox.reset_counters()

    with pytest.raises(Refused, match="You launched this journey"):
        decide(approver, journey)

    assert sandbox.count("approveJourney") == 0
    [refused] = decision_events(journey)
    assert (refused.outcome, refused.actor, refused.detail["rule"]) == ("refused", approver, "forbid_self_approval")
    assert decide(approver2, journey).sent
    assert sandbox.count("approveJourney") == 1


def test_two_distinct_approvers_are_needed_and_mint_hears_only_the_second(
    sandbox, approval_workflow, start, mint, approver, approver2
):
    journey = start(approval_workflow(tags=["contracts"]), "C-1")
    sandbox.reset_counters()

    first = decide(approver, journey, reason="Looks fine")
    again = decide(approver, journey)

    assert not first.sent and (first.approvals, first.required) == (1, 2)
    assert "waiting for 1 more approver" in first.message and not again.sent
    assert sandbox.count("approveJourney") == 0
    assert not decision_events(journey) and ApprovalVote.objects.count() == 1

    second = decide(approver2, journey)

    assert second.sent and sandbox.count("approveJourney") == 1
    assert mint.get_journey(journey.id).step_data["check"]["message"] == "Approved by approver, approver2"
    # Each counted vote is an event of its own, the N-th too; then the decision.
    events = AuditEvent.objects.filter(journey_id=journey.id, action__startswith="journey.approve").order_by("id")
    assert [(event.actor_username, event.action, event.summary) for event in events] == [
        ("approver", "journey.approve.vote", "Approval 1 of 2 recorded"),
        ("approver2", "journey.approve.vote", "Approval 2 of 2 recorded"),
        ("approver2", "journey.approve", "Approved step check by approver, approver2")]
    assert [(event.detail["vote"], event.detail["required"], event.detail["occurrence"], event.detail["step_id"])
            for event in events[:2]] == [(1, 2, 1, "check"), (2, 2, 1, "check")]


def test_one_rejection_ends_an_approval_that_needs_two_approvers(
    sandbox, approval_workflow, start, mint, approver, approver2
):
    journey = start(approval_workflow(tags=["contracts"]), "C-2")
    decide(approver, journey)
    sandbox.reset_counters()

    decide(approver2, journey, approved=False, reason="Wrong amount")

    assert sandbox.count("approveJourney") == 1
    assert mint.get_journey(journey.id).status == "faulted"
    with pytest.raises(AlreadyDecided, match="Already decided by approver2 at"):
        decide(approver, journey)


def test_a_repeated_click_finds_the_approval_already_decided_and_records_nothing(
    sandbox, approval_workflow, start, approver
):
    journey = start(approval_workflow(tags=["onboarding"]), "D-1")
    decide(approver, journey)
    sandbox.reset_counters()

    with pytest.raises(AlreadyDecided, match="Already decided by approver at") as refused:
        decide(approver, journey)

    assert refused.value.approved and sandbox.count("approveJourney") == 0
    assert len(decision_events(journey)) == 1


def test_when_mint_refuses_the_decision_is_recorded_as_failed_and_can_be_made_again(
    sandbox, approval_workflow, start, approver
):
    journey = start(approval_workflow(tags=["onboarding"]), "F-1")
    sandbox.add_fault(path=r"/journeys/.*/approve$", method="POST", status=409, times=1)

    with pytest.raises(DecisionFailed, match="nothing was decided") as failed:
        decide(approver, journey)

    assert not Decision.objects.exists()
    [event] = decision_events(journey)
    assert event.outcome == "failed" and event.trace_id and event.trace_id == failed.value.trace_id
    assert decide(approver, journey).sent
    assert [event.outcome for event in decision_events(journey)] == ["failed", "ok"]


def test_an_unconfirmed_decision_is_audited_as_unknown_and_left_open(sandbox, approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "U-1")
    sandbox.add_fault(path=r"/journeys/.*/approve$", method="POST", status=500, times=1)

    with pytest.raises(DecisionFailed, match="did not confirm"):
        decide(approver, journey)

    assert [event.outcome for event in decision_events(journey)] == ["unknown"]
    assert not Decision.objects.exists()


def test_someone_outside_the_scope_or_without_approve_cannot_decide(approval_workflow, start, case_handler, operator):
    inside = start(approval_workflow(tags=["onboarding"]), "P-1")
    outside = start(approval_workflow(tags=["batch"]), "P-2")
    with pytest.raises(NotAllowed):
        decide(case_handler, inside)
    with pytest.raises(NotVisible):
        decide(operator, outside)
    assert not AuditEvent.objects.filter(action__startswith="journey.").exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_deciding_at_once_give_one_decision_in_mint_and_one_audit_event(
    sandbox, approval_workflow, start, approver, approver2
):
    journey = start(approval_workflow(tags=["onboarding"]), "T-1")
    sandbox.reset_counters()
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def run(user) -> Callable[[], None]:
        def target() -> None:
            barrier.wait(timeout=30)
            try:
                outcomes[user.username] = decide(user, journey, reason=f"by {user.username}")
            except Exception as exc:  # the loser's answer is what the test inspects
                outcomes[user.username] = exc
            finally:
                connection.close()
        return target

    threads = [threading.Thread(target=run(user)) for user in (approver, approver2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sandbox.count("approveJourney") == 1
    assert Decision.objects.count() == 1
    assert len(decision_events(journey)) == 1
    winner = Decision.objects.get().decided_by_username
    loser = outcomes["approver2" if winner == "approver" else "approver"]
    assert isinstance(loser, AlreadyDecided), loser
    assert str(loser).startswith(f"Already decided by {winner} at")


def test_a_decision_that_loses_the_race_after_its_checks_hears_already_decided_and_records_nothing(
    sandbox, approval_workflow, start, mint, approver, approver2
):
    """The rival's whole decision lands between this request's "decided yet?" check and its read of the journey,
    so the step no longer waits when this request looks: it lost a race, it was not refused."""
    journey = start(approval_workflow(tags=["onboarding"]), "R-1")
    sandbox.reset_counters()
    rival = {"done": False}

    def rival_decides_in_between(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if (not rival["done"] and sql.startswith("SELECT") and '"approvals_decision"' in sql
                and "COUNT(" not in sql):
            rival["done"] = True
            decide(approver2, journey, reason="rival")
        return result

    with connection.execute_wrapper(rival_decides_in_between), pytest.raises(AlreadyDecided, match="approver2"):
        decide(approver, journey, reason="late")

    assert rival["done"] and sandbox.count("approveJourney") == 1
    assert [(event.actor_username, event.outcome) for event in decision_events(journey)] == [("approver2", "ok")]


def test_the_workflows_policy_holds_for_an_approver_of_another_team_so_the_admin_alone_records_one_of_two(
    sandbox, approval_workflow, start, mint, admin, approver
):
    """The contracts policy asks for two approvers; the admin's team covers every workflow with its own scope,
    which grants approving there but never loosens the policy."""
    journey = start(approval_workflow(tags=["contracts"]), "A-2")
    sandbox.reset_counters()

    first = decide(admin, journey, reason="Fine by me")

    assert not first.sent and (first.approvals, first.required) == (1, 2)
    assert "Your approval is recorded (1 of 2)" in first.message
    assert sandbox.count("approveJourney") == 0 and not Decision.objects.exists()
    assert [step.step_id for step in mint.get_journey(journey.id).active_steps] == ["check"]
    vote = AuditEvent.objects.get(action="journey.approve.vote")
    assert (vote.actor, vote.summary) == (admin, "Approval 1 of 2 recorded")

    assert decide(approver, journey).sent
    assert mint.get_journey(journey.id).step_data["check"]["message"] == "Approved by admin, approver"


def test_a_superuser_outside_the_policys_approver_teams_is_refused_and_a_superuser_alone_needs_two(
    sandbox, approval_workflow, start, approver
):
    root = User.objects.create_superuser("root", password="x")
    journey = start(approval_workflow(tags=["contracts"]), "S-2")

    assert not decide(root, journey).sent

    ApprovalPolicy.objects.get(name="Contract approvals").approver_teams.set([Group.objects.get(name="Approvers")])
    with pytest.raises(NotAllowed):
        decide(User.objects.get(pk=root.pk), journey)


def test_a_team_the_policy_does_not_name_may_not_approve_and_does_not_see_the_journey_in_its_inbox(
    sandbox, approval_workflow, start, admin, approver
):
    ApprovalPolicy.objects.get(name="Contract approvals").approver_teams.set([Group.objects.get(name="Approvers")])
    contract = start(approval_workflow(tags=["contracts"]), "T-2")
    onboarding = start(approval_workflow(tags=["onboarding"]), "T-3")
    sandbox.reset_counters()

    with pytest.raises(NotAllowed, match="approving"):
        decide(admin, contract)

    assert sandbox.count("approveJourney") == 0 and not ApprovalVote.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="journey.approve").exists()
    waiting = {journey.id for journey in waiting_journeys(user=fresh(admin), filters=InboxFilters())}
    assert contract.id not in waiting and onboarding.id in waiting
    assert not approval_panels(user=fresh(admin), journey_id=contract.id, workflow_id=contract.workflow_id,
                               active_steps=contract.waiting_steps.all())
    assert {journey.id for journey in waiting_journeys(user=fresh(approver), filters=InboxFilters())} \
        == {contract.id, onboarding.id}
    assert not decide(approver, contract).sent
