"""``manage.py demo_setup``: demo teams, scopes, approval policies and users, idempotent, and tag scopes resolved
at once."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from accounts.models import Action, ApprovalPolicy, AuditEvent, Scope
from accounts.policy import approval_rules, user_can
from approvals.services import DecisionResult, approval_decide
from journeys.services.sync import journey_refresh
from mintportal.mint import get_client, models

pytestmark = pytest.mark.django_db


def run_demo_setup(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_setup", *args, stdout=out)
    return out.getvalue()


def test_it_creates_one_user_per_persona_in_their_team_and_is_idempotent() -> None:
    run_demo_setup("--skip-sync")
    events = AuditEvent.objects.count()
    output = run_demo_setup("--skip-sync")

    assert AuditEvent.objects.count() == events, "a second run changes nothing, so it records nothing"
    assert "mintdemo" not in output
    teams = {user.username: sorted(user.groups.values_list("name", flat=True)) for user in User.objects.all()}
    assert teams == {"handler": ["Case handlers"], "approver": ["Approvers"], "approver2": ["Approvers"],
                     "operator": ["Operators"], "admin": ["Admins"]}
    assert all(authenticate(username=name, password="mintdemo") for name in teams)
    assert User.objects.get(username="admin").is_staff and not User.objects.get(username="admin").is_superuser
    assert Scope.objects.count() == 5 and Group.objects.count() == 4
    assert set(Scope.objects.get(team__name="Admins").actions) == set(Action.values)
    policies = {policy.workflow_tag: (policy.required_approvals, policy.forbid_self_approval, policy.sla_hours)
                for policy in ApprovalPolicy.objects.all()}
    assert policies == {"onboarding": (1, True, 24), "contracts": (2, True, 24)}
    assert not ApprovalPolicy.objects.filter(approver_teams__isnull=False).exists()


def test_a_changed_demo_scope_is_put_back_and_the_change_audited() -> None:
    run_demo_setup("--skip-sync")
    Scope.objects.filter(name="Contract approvals").update(actions=[Action.VIEW])

    run_demo_setup("--skip-sync")

    assert Scope.objects.get(name="Contract approvals").actions == [Action.VIEW, Action.APPROVE]
    event = AuditEvent.objects.filter(action="access.scope.update").get()
    assert event.actor_username == "system" and event.detail["state"]["actions"] == [Action.VIEW, Action.APPROVE]


def test_a_changed_demo_policy_is_put_back_and_the_change_audited() -> None:
    run_demo_setup("--skip-sync")
    policy = ApprovalPolicy.objects.get(name="Contract approvals")
    ApprovalPolicy.objects.filter(pk=policy.pk).update(required_approvals=1, sla_hours=None)
    policy.approver_teams.set([Group.objects.get(name="Admins")])

    run_demo_setup("--skip-sync")

    policy.refresh_from_db()
    assert (policy.required_approvals, policy.sla_hours, list(policy.approver_teams.all())) == (2, 24, [])
    event = AuditEvent.objects.filter(action="access.policy.update").get()
    assert event.actor_username == "system"
    assert event.detail["state"]["required_approvals"] == 2 and event.detail["state"]["approver_teams"] == []


def test_it_mirrors_the_workflows_so_tag_scopes_apply_at_once(mint_settings) -> None:
    workflow = get_client().create_workflow(models.WorkflowInput(
        name="Demo contracts", tags=["contracts"],
        steps=[models.WorkflowStep(id="check", type="require-approval"), models.WorkflowStep(id="end", type="finish")],
        connections=[models.WorkflowStepConnection(source_step_id="check", target_step_id="end", outcome="Approved")],
    ))

    output = run_demo_setup()

    assert "Workflows mirrored" in output
    approver, admin = User.objects.get(username="approver"), User.objects.get(username="admin")
    assert user_can(user=approver, action=Action.APPROVE, workflow_id=workflow.id)
    assert user_can(user=admin, action=Action.APPROVE, workflow_id=workflow.id)
    assert not user_can(user=User.objects.get(username="operator"), action=Action.APPROVE, workflow_id=workflow.id)
    # The contracts policy holds for every approver: the admin's all-workflows scope does not loosen it.
    for user in (approver, admin):
        rules = approval_rules(user=user, workflow_id=workflow.id)
        assert (rules.required_approvals, rules.forbid_self_approval, rules.sla_hours) == (2, True, 24)


def test_it_finishes_when_mint_cannot_be_reached(settings) -> None:
    settings.MINT_BASE_URL = "http://127.0.0.1:9/mint"
    settings.MINT_TOKEN_URL = "http://127.0.0.1:9/token"

    assert "Workflows not mirrored yet" in run_demo_setup()
    assert User.objects.filter(username="approver").exists()


def test_out_of_the_box_two_approvers_sign_off_a_contract_and_the_admin_alone_records_one_of_two(mint_settings) -> None:
    """The demo's contract sign-off: the contracts policy asks two approvers of everyone, the admin included."""
    client = get_client()
    workflow = client.create_workflow(models.WorkflowInput(
        name="Demo contract sign-off", tags=["contracts", "b2b"],
        steps=[models.WorkflowStep(id="signoff", type="require-approval"),
               models.WorkflowStep(id="end", type="finish")],
        connections=[models.WorkflowStepConnection(source_step_id="signoff", target_step_id="end", outcome="Approved")],
    ))
    run_demo_setup()
    first, second = (client.start_journey(workflow.id, input={}).journey_id for _ in range(2))
    for journey_id in (first, second):
        journey_refresh(journey_id=journey_id)
    approver, approver2, admin = (User.objects.get(username=name) for name in ("approver", "approver2", "admin"))

    def decide(user: User, journey_id: str) -> DecisionResult:
        return approval_decide(user=user, journey_id=journey_id, step_id="signoff", approved=True)

    assert decide(approver, first).message.startswith("Your approval is recorded (1 of 2)")
    assert decide(approver2, first).sent
    assert client.get_journey(first).status == "finished"
    alone = decide(admin, second)
    assert not alone.sent and (alone.approvals, alone.required) == (1, 2)
    assert client.get_journey(second).status == "active"
