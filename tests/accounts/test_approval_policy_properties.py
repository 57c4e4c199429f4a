"""Approval policies against a brute force: for random policies (by id, tag or all; N; self-approval; SLA;
approver teams) and random users, teams and scopes, the rules applied and who may approve are exactly the
strictest match written out below, the same for every user (no scope loosens a policy), superusers included."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import MAX_REQUIRED_APPROVALS, Action, ApprovalPolicy, Scope, WorkflowRecord
from accounts.policy import approval_rules, sla_hours_for, user_can, workflow_access
from tests.personas import place_workflow

pytestmark = pytest.mark.django_db

WORKFLOWS = ["w1", "w2", "w3", "w4"]
UNKNOWN = "w-unknown"  # not in the workflow mirror: no tags, matched only by id or all
TAGS = ["t1", "t2", "t3"]
TEAMS = ["A", "B", "C"]

teams = st.frozensets(st.sampled_from(TEAMS), max_size=3)
matches = st.one_of(
    st.just(("all", "")),
    st.tuples(st.just("id"), st.sampled_from([*WORKFLOWS, UNKNOWN])),
    st.tuples(st.just("tag"), st.sampled_from(TAGS)),
)
policies = st.lists(st.fixed_dictionaries({
    "match": matches,
    "required": st.integers(min_value=1, max_value=MAX_REQUIRED_APPROVALS),
    "forbid": st.booleans(),
    "sla": st.none() | st.integers(min_value=1, max_value=200),
    "teams": teams,
}), max_size=4)
scopes = st.fixed_dictionaries({
    "approve": st.booleans(),
    "all": st.booleans(),
    "ids": st.frozensets(st.sampled_from([*WORKFLOWS, UNKNOWN]), max_size=2),
    "tags": st.frozensets(st.sampled_from(TAGS), max_size=2),
})
worlds = st.fixed_dictionaries({
    "tags": st.fixed_dictionaries({workflow: st.frozensets(st.sampled_from(TAGS), max_size=2)
                                   for workflow in WORKFLOWS}),
    "scopes": st.fixed_dictionaries({team: st.lists(scopes, max_size=2) for team in TEAMS}),
    "policies": policies,
    "users": st.lists(st.tuples(teams, st.booleans()), min_size=1, max_size=3),
})


@dataclass(frozen=True)
class Expected:
    required: int
    forbid: bool
    sla: int | None
    teams: frozenset[str] | None


def tags_of(world: dict, workflow: str) -> frozenset[str]:
    return world["tags"].get(workflow, frozenset())


def expected_rules(world: dict, workflow: str) -> Expected:
    tags = tags_of(world, workflow)
    matching = [
        policy for policy in world["policies"]
        if policy["match"][0] == "all"
        or (policy["match"][0] == "id" and policy["match"][1] == workflow)
        or (policy["match"][0] == "tag" and policy["match"][1] in tags)
    ]
    if not matching:
        return Expected(required=1, forbid=True, sla=None, teams=None)
    slas = [policy["sla"] for policy in matching if policy["sla"]]
    named = [policy["teams"] for policy in matching if policy["teams"]]
    return Expected(
        required=max(policy["required"] for policy in matching),
        forbid=any(policy["forbid"] for policy in matching),
        sla=min(slas) if slas else None,
        teams=frozenset.intersection(*named) if named else None,
    )


def expected_can(world: dict, user_teams: frozenset[str], superuser: bool, workflow: str) -> bool:
    allowed = expected_rules(world, workflow).teams
    if superuser:
        return allowed is None or bool(user_teams & allowed)
    tags = tags_of(world, workflow)
    granting = {
        team for team in user_teams for scope in world["scopes"][team]
        if scope["approve"] and (covers_all(scope) or workflow in scope["ids"] or scope["tags"] & tags)
    }
    return bool(granting) if allowed is None else bool(granting & allowed)


def covers_all(scope: dict) -> bool:
    # A scope must cover something: one drawn with neither ids nor tags is stored as covering all workflows.
    return scope["all"] or not (scope["ids"] or scope["tags"])


def build(world: dict) -> list[tuple[User, frozenset[str], bool]]:
    for model in (ApprovalPolicy, Scope, WorkflowRecord):
        model.objects.all().delete()
    User.objects.all().delete()
    Group.objects.all().delete()
    for workflow, tags in world["tags"].items():
        place_workflow(workflow, tags=sorted(tags))
    groups = {name: Group.objects.create(name=name) for name in TEAMS}
    for name, team_scopes in world["scopes"].items():
        for index, scope in enumerate(team_scopes):
            Scope.objects.create(
                team=groups[name], name=f"{name}{index}", all_workflows=covers_all(scope),
                workflow_ids=sorted(scope["ids"]), workflow_tags=sorted(scope["tags"]),
                actions=[Action.VIEW, Action.APPROVE] if scope["approve"] else [Action.VIEW],
            )
    for index, policy in enumerate(world["policies"]):
        kind, value = policy["match"]
        created = ApprovalPolicy.objects.create(
            name=f"P{index}", all_workflows=kind == "all", workflow_id=value if kind == "id" else "",
            workflow_tag=value if kind == "tag" else "", required_approvals=policy["required"],
            forbid_self_approval=policy["forbid"], sla_hours=policy["sla"],
        )
        created.approver_teams.set([groups[name] for name in policy["teams"]])
    users = []
    for index, (user_teams, superuser) in enumerate(world["users"]):
        user = User.objects.create_user(f"u{index}", is_superuser=superuser)
        user.groups.set([groups[name] for name in user_teams])
        users.append((User.objects.get(pk=user.pk), user_teams, superuser))
    # A superuser in no team stands for "no scope at all": the rules must be the same for them.
    users.append((User.objects.create_superuser("root-nobody", password="x"), frozenset(), True))
    return users


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(world=worlds)
def test_the_rules_and_who_may_approve_are_the_strictest_match(world: dict) -> None:
    users = build(world)
    team_names = dict(Group.objects.values_list("pk", "name"))
    for workflow in [*WORKFLOWS, UNKNOWN]:
        wanted = expected_rules(world, workflow)
        for user, user_teams, superuser in users:
            rules = approval_rules(user=user, workflow_id=workflow)
            named = None if rules.approver_team_ids is None else frozenset(
                team_names[team_id] for team_id in rules.approver_team_ids)
            # The same for every user, whatever their scopes: a scope only grants, it never loosens.
            assert Expected(rules.required_approvals, rules.forbid_self_approval, rules.sla_hours, named) == wanted
            assert sla_hours_for(user=user, action=Action.CONTINUE, workflow_id=workflow) == wanted.sla
            can = expected_can(world, user_teams, superuser, workflow)
            assert user_can(user=user, action=Action.APPROVE, workflow_id=workflow) is can, (user, workflow)
            assert workflow_access(user=user, action=Action.APPROVE).allows(workflow) is can
    for user, user_teams, superuser in users:
        access = workflow_access(user=user, action=Action.APPROVE)
        listed = set(WorkflowRecord.objects.filter(access.q("id")).values_list("id", flat=True))
        assert listed == {workflow for workflow in WORKFLOWS if expected_can(world, user_teams, superuser, workflow)}
