"""Saved views against a brute force, over random teams, scopes, users, journeys (with or without a customer number
in their data) and views (status, workflow, search and business-data filters): a person lists exactly the views they
own or that are shared with one of their teams (none without the right to view journeys); a view's navigation count
is the number of journeys the list shows that viewer for its query, exactly the rows written out here; no row outside
their scope."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Action, Scope, WorkflowRecord
from journeys.models import Journey
from journeys.services.mirror import journey_mirror_changed
from savedviews.models import SavedView
from savedviews.selectors import savedview_count, savedview_count_cached, savedview_visible
from tests.personas import place_workflow
from tests.savedviews.conftest import cache_emptied, list_rows

pytestmark = pytest.mark.django_db

WORKFLOWS = ["w1", "w2", "w3"]
TAGS = ["t1", "t2"]
TEAMS = ["A", "B", "C"]
STATUSES = ["active", "finished", "faulted"]
NAMES = ["Anna", "Bo", "Cecilie"]
# A journey's customer number (its input), or none.
CUSTOMERS = ["C-1", "C-2", None]

scopes = st.fixed_dictionaries({
    "view": st.booleans(),
    "all": st.booleans(),
    "ids": st.frozensets(st.sampled_from(WORKFLOWS), max_size=2),
    "tags": st.frozensets(st.sampled_from(TAGS), max_size=1),
})
queries = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(STATUSES),
    "workflow": st.sampled_from(WORKFLOWS),
    "q": st.sampled_from(NAMES),
    "sort": st.sampled_from(["name", "-last", "status"]),
    "data": st.sampled_from(["customerNumber = C-1", "customerNumber ~ c-", "customerNumber exists"]),
})
worlds = st.fixed_dictionaries({
    "tags": st.fixed_dictionaries({workflow: st.frozensets(st.sampled_from(TAGS), max_size=1)
                                   for workflow in WORKFLOWS}),
    "scopes": st.fixed_dictionaries({team: st.lists(scopes, max_size=2) for team in TEAMS}),
    "users": st.lists(st.frozensets(st.sampled_from(TEAMS), max_size=2), min_size=1, max_size=3),
    "journeys": st.lists(st.tuples(st.sampled_from(WORKFLOWS), st.sampled_from(STATUSES), st.sampled_from(NAMES),
                                   st.sampled_from(CUSTOMERS)), max_size=8),
    # (owner index, query, teams shared with)
    "views": st.lists(st.tuples(st.integers(min_value=0, max_value=2), queries,
                                st.frozensets(st.sampled_from(TEAMS), max_size=2)), max_size=4),
})


def covers_all(scope: dict) -> bool:
    # A scope must cover something: one drawn with neither ids nor tags is stored as covering all workflows.
    return scope["all"] or not (scope["ids"] or scope["tags"])


def may_view(world: dict, user_teams: frozenset[str], workflow: str) -> bool:
    return any(
        scope["view"] and (covers_all(scope) or workflow in scope["ids"] or scope["tags"] & world["tags"][workflow])
        for team in user_teams for scope in world["scopes"][team]
    )


def has_view_right(world: dict, user_teams: frozenset[str]) -> bool:
    return any(scope["view"] for team in user_teams for scope in world["scopes"][team])


def expected_rows(world: dict, user_teams: frozenset[str], query: dict) -> set[str]:
    """The journeys the list should show: those in the viewer's scope matching each filter the viewer's list
    accepts (a workflow they see no journeys of is refused there, so it does not filter)."""
    visible = {f"j{number}": journey for number, journey in enumerate(world["journeys"])
               if may_view(world, user_teams, journey[0])}
    workflow = query.get("workflow")
    if workflow and not any(journey[0] == workflow for journey in visible.values()):
        workflow = None
    rows = set()
    for journey_id, (journey_workflow, status, name, customer) in visible.items():
        number = journey_id[1:]
        if query.get("status", status) != status or (workflow and journey_workflow != workflow):
            continue
        if "q" in query and not (query["q"] == journey_id or query["q"].lower() in f"{name} {number}".lower()):
            continue
        if "data" in query and not data_matches(query["data"], customer):
            continue
        rows.add(journey_id)
    return rows


def data_matches(condition: str, customer: str | None) -> bool:
    """The three business-data filters the views use, written out: equals C-1, contains "c-" in any case, exists."""
    if condition == "customerNumber = C-1":
        return customer == "C-1"
    return customer is not None


def build(world: dict) -> tuple[list[tuple[User, frozenset[str]]], list[tuple[SavedView, int, frozenset[str]]]]:
    cache_emptied()
    SavedView.objects.all().delete()
    Journey.objects.all().delete()
    for model in (Scope, WorkflowRecord):
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
                actions=[Action.VIEW] if scope["view"] else [Action.LAUNCH],
            )
    users = []
    for index, user_teams in enumerate(world["users"]):
        user = User.objects.create_user(f"u{index}")
        user.groups.set([groups[name] for name in user_teams])
        users.append((User.objects.get(pk=user.pk), user_teams))
    start = timezone.now() - timedelta(days=1)
    for index, (workflow, status, name, customer) in enumerate(world["journeys"]):
        Journey.objects.create(id=f"j{index}", workflow_id=workflow, workflow_name=workflow.upper(), version=1,
                               status=status, name=f"{name} {index}", created_at=start,
                               last_executed_at=start + timedelta(minutes=index), seen_at=start,
                               data={"input": {"customerNumber": customer}} if customer else {})
    journey_mirror_changed()
    views = []
    now = timezone.now()
    for index, (owner, query, shared) in enumerate(world["views"]):
        owner_user = users[owner % len(users)][0]
        view = SavedView.objects.create(owner=owner_user, name=f"View {index}", query=urlencode(query),
                                        created_at=now, updated_at=now)
        view.teams.set([groups[name] for name in shared])
        views.append((view, owner % len(users), shared))
    return users, views


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(world=worlds)
def test_each_person_lists_exactly_the_views_they_own_or_share_and_counts_what_the_list_shows_them(
    world: dict,
) -> None:
    users, views = build(world)
    query_of = {view.pk: world["views"][index][1] for index, (view, _, _) in enumerate(views)}
    for index, (user, user_teams) in enumerate(users):
        expected = {
            view.pk for view, owner, shared in views
            if has_view_right(world, user_teams) and (owner == index or shared & user_teams)
        }
        assert set(savedview_visible(user=user).values_list("pk", flat=True)) == expected
        client = Client()
        client.force_login(user)
        for view, _, _ in views:
            if view.pk not in expected:
                continue
            total, rows = list_rows(client, view)
            assert savedview_count(user=user, view=view) == total
            assert savedview_count_cached(user=user, view=view) == total
            in_scope = {f"j{number}" for number, (workflow, *_) in enumerate(world["journeys"])
                        if may_view(world, user_teams, workflow)}
            assert set(rows) <= in_scope, "a row outside the viewer's scope"
            wanted = expected_rows(world, user_teams, query_of[view.pk])
            assert (total, set(rows)) == (len(wanted), wanted)
