"""The access policy: scopes by id, tag or all workflows; union over teams; not visible outside view, not allowed
without the action; approval policies of workflows set the four-eyes rules for everyone and may name the teams
that approve."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Action, ApprovalPolicy, Scope, WorkflowRecord
from accounts.policy import (
    DEFAULT_APPROVAL_RULES,
    ApprovalRules,
    approval_rules,
    ensure_can,
    ensure_global,
    sla_hours_for,
    user_can,
    workflow_access,
    workflow_approval_policy,
)
from mintportal.errors import NotAllowed, NotVisible
from tests.personas import WF_CONTRACTS, WF_INSIDE, WF_OUTSIDE, place_workflow, team

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as the next request loads it (access is memoised per user object)."""
    return User.objects.get(pk=user.pk)


def test_a_tag_scope_covers_workflows_with_that_tag_and_no_others(approver) -> None:
    assert user_can(user=approver, action=Action.APPROVE, workflow_id=WF_INSIDE)
    assert user_can(user=approver, action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    assert not user_can(user=approver, action=Action.APPROVE, workflow_id=WF_OUTSIDE)
    assert not user_can(user=approver, action=Action.LAUNCH, workflow_id=WF_INSIDE)


def test_a_workflow_unknown_to_the_mirror_is_covered_only_by_id_or_all_workflows(approver, admin) -> None:
    assert not user_can(user=approver, action=Action.VIEW, workflow_id="wf-never-seen")
    assert user_can(user=admin, action=Action.VIEW, workflow_id="wf-never-seen")
    Scope.objects.create(team=Group.objects.get(name="Approvers"), name="One", workflow_ids=["wf-never-seen"],
                         actions=[Action.VIEW])
    assert user_can(user=fresh(approver), action=Action.VIEW, workflow_id="wf-never-seen")


def test_rights_are_the_union_of_the_users_teams(case_handler) -> None:
    assert not user_can(user=case_handler, action=Action.LAUNCH, workflow_id=WF_INSIDE)
    case_handler.groups.add(team("Operators"))
    user = fresh(case_handler)
    assert user_can(user=user, action=Action.LAUNCH, workflow_id=WF_INSIDE)
    assert user_can(user=user, action=Action.ANNOTATE, workflow_id=WF_INSIDE)


def test_workflow_access_resolves_tags_into_ids_and_filters_querysets(operator) -> None:
    place_workflow("wf-service", tags=["customer-service", "extra"])
    access = workflow_access(user=fresh(operator), action=Action.LAUNCH)
    assert not access.everything
    assert access.workflow_ids == {WF_INSIDE, WF_CONTRACTS, "wf-service"}
    assert set(WorkflowRecord.objects.filter(access.q("id")).values_list("id", flat=True)) == access.workflow_ids


def test_outsiders_anonymous_and_inactive_users_may_do_nothing(outsider, approver) -> None:
    approver.is_active = False
    approver.save()
    for user in (outsider, AnonymousUser(), fresh(approver)):
        assert not user_can(user=user, action=Action.VIEW, workflow_id=WF_INSIDE)
        assert workflow_access(user=user, action=Action.VIEW).nothing


def test_superusers_may_do_everything_without_a_team() -> None:
    root = User.objects.create_superuser("root", password="x")
    assert user_can(user=root, action=Action.MANAGE_ACCESS)
    assert workflow_access(user=root, action=Action.APPROVE).everything


def test_ensure_can_hides_what_is_outside_view_and_refuses_a_missing_action(case_handler) -> None:
    with pytest.raises(NotVisible):
        ensure_can(user=case_handler, action=Action.ANNOTATE, workflow_id=WF_OUTSIDE)
    with pytest.raises(NotAllowed, match="approving"):
        ensure_can(user=case_handler, action=Action.APPROVE, workflow_id=WF_INSIDE)
    ensure_can(user=case_handler, action=Action.CONTINUE, workflow_id=WF_INSIDE)
    with pytest.raises(NotAllowed, match="audit"):
        ensure_global(user=case_handler, action=Action.AUDIT)


def test_approval_rules_come_from_the_workflows_policies_the_strictest_winning(approver) -> None:
    assert approval_rules(user=approver, workflow_id=WF_INSIDE).required_approvals == 1
    contracts = approval_rules(user=approver, workflow_id=WF_CONTRACTS)
    assert (contracts.required_approvals, contracts.forbid_self_approval, contracts.sla_hours) == (2, True, 24)
    place_workflow("wf-both", tags=["onboarding", "contracts"])
    ApprovalPolicy.objects.filter(name="Onboarding approvals").update(sla_hours=4)
    both = approval_rules(user=fresh(approver), workflow_id="wf-both")
    assert (both.required_approvals, both.sla_hours) == (2, 4)


def test_without_a_matching_policy_one_approver_other_than_the_launcher_decides(approver) -> None:
    assert approval_rules(user=approver, workflow_id="wf-no-policy") == DEFAULT_APPROVAL_RULES
    assert ApprovalRules(forbid_self_approval=True, required_approvals=1, sla_hours=None) == DEFAULT_APPROVAL_RULES


def test_a_policy_applies_to_approvers_of_every_team_and_to_a_superuser(approver, admin) -> None:
    root = User.objects.create_superuser("root", password="x")
    for user in (approver, admin, root):
        assert approval_rules(user=user, workflow_id=WF_CONTRACTS).required_approvals == 2
    assert approval_rules(user=root, workflow_id="wf-no-team").forbid_self_approval


def test_the_sla_of_approvals_and_manual_steps_is_the_workflows_policys(case_handler, approver) -> None:
    assert sla_hours_for(user=case_handler, action=Action.CONTINUE, workflow_id=WF_CONTRACTS) == 24
    assert sla_hours_for(user=approver, action=Action.APPROVE, workflow_id=WF_CONTRACTS) == 24
    assert sla_hours_for(user=approver, action=Action.APPROVE, workflow_id=WF_OUTSIDE) is None


def test_approver_teams_restrict_who_may_approve_superusers_included(approver, admin) -> None:
    policy = ApprovalPolicy.objects.get(name="Contract approvals")
    policy.approver_teams.set([Group.objects.get(name="Approvers")])
    root = User.objects.create_superuser("root", password="x")

    assert user_can(user=fresh(approver), action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    assert not user_can(user=fresh(admin), action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    assert user_can(user=fresh(admin), action=Action.APPROVE, workflow_id=WF_INSIDE)
    assert not user_can(user=root, action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    root.groups.add(Group.objects.get(name="Approvers"))
    assert user_can(user=fresh(root), action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    with pytest.raises(NotAllowed, match="approving"):
        ensure_can(user=fresh(admin), action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    access = workflow_access(user=fresh(admin), action=Action.APPROVE)
    assert access.allows("wf-never-seen") and not access.allows(WF_CONTRACTS)
    assert set(WorkflowRecord.objects.filter(access.q("id")).values_list("id", flat=True)) == {WF_INSIDE, WF_OUTSIDE}


def test_a_team_must_both_be_named_and_hold_approve_there(approver, case_handler) -> None:
    # The case handlers' team is named by the policy but its scope grants no approve: naming never grants.
    ApprovalPolicy.objects.get(name="Contract approvals").approver_teams.set([Group.objects.get(name="Case handlers")])
    assert not user_can(user=fresh(case_handler), action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    assert not user_can(user=fresh(approver), action=Action.APPROVE, workflow_id=WF_CONTRACTS)
    # A member of both teams approves only through a team that both holds approve and is named.
    approver.groups.add(Group.objects.get(name="Case handlers"))
    assert not user_can(user=fresh(approver), action=Action.APPROVE, workflow_id=WF_CONTRACTS)


def test_policies_naming_disjoint_teams_leave_nobody_to_approve(approver, admin) -> None:
    place_workflow("wf-both", tags=["onboarding", "contracts"])
    ApprovalPolicy.objects.get(name="Onboarding approvals").approver_teams.set([Group.objects.get(name="Admins")])
    ApprovalPolicy.objects.get(name="Contract approvals").approver_teams.set([Group.objects.get(name="Approvers")])

    shown = workflow_approval_policy(user=fresh(admin), workflow_id="wf-both")

    assert shown.approver_teams == () and shown.rules.approver_team_ids == frozenset()
    assert [policy.name for policy in shown.policies] == ["Contract approvals", "Onboarding approvals"]
    for user in (fresh(approver), fresh(admin)):
        assert not user_can(user=user, action=Action.APPROVE, workflow_id="wf-both")
    assert user_can(user=fresh(admin), action=Action.APPROVE, workflow_id=WF_INSIDE)
    assert user_can(user=fresh(approver), action=Action.APPROVE, workflow_id=WF_CONTRACTS)


def test_access_and_rules_cost_a_fixed_number_of_queries_per_request(approver) -> None:
    place_workflow("wf-more", tags=["contracts"])
    user = fresh(approver)
    with CaptureQueriesContext(connection) as first:
        workflow_access(user=user, action=Action.APPROVE)
        for workflow_id in (WF_INSIDE, WF_CONTRACTS, WF_OUTSIDE, "wf-more"):
            approval_rules(user=user, workflow_id=workflow_id)
            sla_hours_for(user=user, action=Action.CONTINUE, workflow_id=workflow_id)
    # The user's scopes, the policies with their teams, the workflows' tags.
    assert len(first.captured_queries) == 3
    with CaptureQueriesContext(connection) as again:
        user_can(user=user, action=Action.APPROVE, workflow_id="wf-more")
        approval_rules(user=user, workflow_id="wf-more")
    assert not again.captured_queries
