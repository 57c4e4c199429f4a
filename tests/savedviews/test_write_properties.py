"""Saved-view writes against a brute force: random sequences of creates, updates, deletes and pins by random people
(owners, team members, strangers, someone without the right to view journeys). Whatever the sequence, a change
by anyone but the owner is refused (404 if they cannot see the view, 403 if they can) and changes nothing; nobody
shares with a team they are not in; nobody has more than 5 pinned views in the navigation; each owner's names stay
unique; and every change that happened, and only those, is in the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import Action, AuditEvent, Scope
from mintportal.errors import ApplicationError, NotAllowed, NotVisible
from savedviews.models import MAX_PINNED, SavedView
from savedviews.selectors import savedview_pinned, savedview_visible
from savedviews.services import savedview_create, savedview_delete, savedview_pin, savedview_update
from tests.savedviews.conftest import cache_emptied

pytestmark = pytest.mark.django_db

TEAMS = ["A", "B"]
# Each person's teams; the last may view no journeys (their team's scope grants only launching).
PEOPLE = [("p0", {"A"}), ("p1", {"A", "B"}), ("p2", {"B"}), ("p3", {"C"})]
NAMES = ["Open", "open", "Mine", "Late"]

operations = st.lists(st.tuples(
    st.integers(min_value=0, max_value=len(PEOPLE) - 1),
    st.sampled_from(["create", "update", "delete", "pin", "unpin"]),
    st.integers(min_value=0, max_value=2),  # which of the views made so far (by creation order)
    st.sampled_from(NAMES),
    st.frozensets(st.sampled_from(TEAMS), max_size=2),
    st.booleans(),
), min_size=1, max_size=15)


def build() -> list[tuple[User, set[str]]]:
    cache_emptied()
    SavedView.objects.all().delete()
    User.objects.all().delete()
    Group.objects.all().delete()
    groups = {name: Group.objects.create(name=name) for name in [*TEAMS, "C"]}
    for name in TEAMS:
        Scope.objects.create(team=groups[name], name=name, all_workflows=True, actions=[Action.VIEW])
    Scope.objects.create(team=groups["C"], name="C", all_workflows=True, actions=[Action.LAUNCH])
    people = []
    for username, teams in PEOPLE:
        user = User.objects.create_user(username)
        user.groups.set([groups[name] for name in teams])
        people.append((User.objects.get(pk=user.pk), teams))
    return people


def snapshot(view_id: int) -> tuple | None:
    view = SavedView.objects.filter(pk=view_id).first()
    if view is None:
        return None
    return view.owner_id, view.name, view.query, view.updated_at, sorted(view.teams.values_list("name", flat=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(ops=operations)
# A colleague of the owner's team, a stranger and someone without the right to view forge changes of a shared view.
@example(ops=[(0, "create", 0, "Open", frozenset({"A"}), True), (1, "update", 0, "Taken", frozenset(), False),
              (1, "delete", 0, "Open", frozenset(), False), (2, "update", 0, "Taken", frozenset(), False),
              (2, "pin", 0, "Open", frozenset(), False), (3, "delete", 0, "Open", frozenset(), False),
              (1, "pin", 0, "Open", frozenset(), False), (0, "update", 0, "Mine", frozenset({"B"}), False)])
def test_only_owners_change_views_and_the_limits_and_the_audit_trail_hold(ops: list) -> None:
    people = build()
    made: list[int] = []
    audited_before = AuditEvent.objects.filter(action__startswith="savedview.", outcome="ok").count()
    changes = 0
    for who, kind, slot, name, teams, flag in ops:
        user, user_teams = people[who]
        groups = list(Group.objects.filter(name__in=teams))
        may_use = "C" not in user_teams
        view_id = made[slot % len(made)] if made else 0
        before = snapshot(view_id)
        visible = before is not None and may_use and (before[0] == user.pk or bool(set(before[4]) & user_teams))
        owner = before is not None and before[0] == user.pk
        try:
            if kind == "create":
                view = savedview_create(owner=user, name=name, query="status=active", teams=groups, pin=flag)
                made.append(view.pk)
                assert may_use and set(teams) <= user_teams
                changes += 2 if flag else 1
            elif kind == "update":
                savedview_update(actor=user, view_id=view_id, name=name, query="status=finished", teams=groups)
                assert before is not None and owner and may_use
                assert set(teams) <= user_teams | set(before[4])
                changes += 1
            elif kind == "delete":
                savedview_delete(actor=user, view_id=view_id)
                assert owner and may_use
                changes += 1
            else:
                pinned_before = view_id in {view.pk for view in savedview_pinned(user=user)}
                pinned = savedview_pin(user=user, view_id=view_id, pinned=kind == "pin")
                assert visible and pinned == (kind == "pin")
                changes += pinned != pinned_before
        except NotVisible:
            assert kind != "create" and not visible
            assert snapshot(view_id) == before
        except NotAllowed:
            assert not may_use or (kind in {"update", "delete"} and visible and not owner)
            assert snapshot(view_id) == before
        except ApplicationError:
            # Refused for a name, a team or the pin limit: nothing of the view changed.
            assert kind == "create" or snapshot(view_id) == before
        for person, _ in people:
            assert len(savedview_pinned(user=person)) <= MAX_PINNED
            mine = list(SavedView.objects.filter(owner=person).values_list("name", flat=True))
            assert len({item.lower() for item in mine}) == len(mine)
        for person, person_teams in people:
            listed = set(savedview_visible(user=person).values_list("pk", flat=True))
            expected = set() if "C" in person_teams else {
                view.pk for view in SavedView.objects.prefetch_related("teams")
                if view.owner_id == person.pk or {team.name for team in view.teams.all()} & person_teams}
            assert listed == expected
    audited = AuditEvent.objects.filter(action__startswith="savedview.", outcome="ok").count() - audited_before
    assert audited == changes
