"""The access policy: scopes by id, tag or all workflows; union over teams; not visible outside view, not allowed
without the action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User

from accounts.models import Action, Scope, WorkflowRecord
from accounts.policy import approval_rules, ensure_can, ensure_global, user_can, workflow_access
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


def test_approval_rules_take_the_strictest_of_the_covering_scopes(approver) -> None:
    assert approval_rules(user=approver, workflow_id=WF_INSIDE).required_approvals == 1
    contracts = approval_rules(user=approver, workflow_id=WF_CONTRACTS)
    assert (contracts.required_approvals, contracts.forbid_self_approval, contracts.sla_hours) == (2, True, 24)
    place_workflow("wf-both", tags=["onboarding", "contracts"])
    Scope.objects.filter(name="Onboarding approvals").update(sla_hours=4)
    both = approval_rules(user=fresh(approver), workflow_id="wf-both")
    assert (both.required_approvals, both.sla_hours) == (2, 4)


def test_a_superuser_gets_the_teams_four_eyes_rules_rather_than_bypassing_them(approver) -> None:
    root = User.objects.create_superuser("root", password="x")
    assert approval_rules(user=root, workflow_id=WF_CONTRACTS).required_approvals == 2
    assert approval_rules(user=root, workflow_id="wf-no-team").forbid_self_approval
