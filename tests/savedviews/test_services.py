"""The saved-view services: every limit just inside and just outside, ownership re-checked on each write, sharing
only with one's own teams (any team for those who manage access), and each change audited."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from mintportal.errors import NotAllowed, NotVisible
from privacy.services import declaration_save
from savedviews.models import MAX_PINNED, MAX_VIEWS_PER_OWNER, SavedView, SavedViewPin
from savedviews.selectors import savedview_pinned
from savedviews.services import FieldRefused, savedview_create, savedview_delete, savedview_pin, savedview_update
from tests.journeys.conftest import make_journey
from tests.personas import WF_INSIDE, WF_OUTSIDE, make_user, team

pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def refusal(call, field: str | None) -> str:
    with pytest.raises(FieldRefused) as caught:
        call()
    assert caught.value.field == field
    assert caught.value.status == 400
    return caught.value.message


def test_it_saves_the_list_query_without_its_page_and_audits_it(case_handler: User) -> None:
    make_journey("j1")
    view = savedview_create(owner=case_handler, name="  Open onboarding  ",
                            query=f"?status=active&workflow={WF_INSIDE}&page=3&sort=-last&view=9",
                            teams=[team("Case handlers")])
    assert view.name == "Open onboarding"
    assert view.query == f"status=active&workflow={WF_INSIDE}&sort=-last"
    assert [t.name for t in view.teams.all()] == ["Case handlers"]
    [event] = events("savedview.create")
    assert event.actor_username == "handler" and event.outcome == "ok"
    assert event.detail == {"view_id": view.pk, "name": "Open onboarding", "query": view.query,
                            "teams": ["Case handlers"]}


@pytest.mark.parametrize("length, ok", [(1, True), (100, True), (101, False)])
def test_a_name_has_1_to_100_characters(case_handler: User, length: int, ok: bool) -> None:
    def create():
        return savedview_create(owner=case_handler, name="n" * length, query="")

    if ok:
        assert create().name == "n" * length
    else:
        assert "at most 100 characters" in refusal(create, "name")


def test_an_empty_name_is_refused(case_handler: User) -> None:
    assert "name" in refusal(lambda: savedview_create(owner=case_handler, name="   ", query=""), "name")


def test_a_name_is_unique_per_owner_whatever_its_case_but_not_across_owners(case_handler: User,
                                                                            approver: User) -> None:
    savedview_create(owner=case_handler, name="Mine", query="")
    message = refusal(lambda: savedview_create(owner=case_handler, name="MINE", query=""), "name")
    assert "already have a view named" in message
    assert savedview_create(owner=approver, name="Mine", query="").owner == approver


def _query_of_length(length: int) -> str:
    # The search box takes at most 100 characters, so the length comes from repeating it: the list reads its last
    # value, so the query stays one the list accepts at any length.
    unit = "q=abcdefgh&"
    query = unit * (length // len(unit))
    query += "q=" + "x" * (length - len(query) - 2)
    assert len(query) == length
    return query


@pytest.mark.parametrize("length, ok", [(2000, True), (2001, False)])
def test_a_query_has_at_most_2000_characters(case_handler: User, length: int, ok: bool) -> None:
    query = _query_of_length(length)

    def create():
        return savedview_create(owner=case_handler, name="Long", query=query)

    if ok:
        assert len(create().query) == 2000
    else:
        assert "at most 2,000 characters" in refusal(create, "query")


@pytest.mark.parametrize("query, message", [
    ("status=sleeping", "Select a valid choice"),
    (f"workflow={WF_OUTSIDE}", "Select a valid choice"),
    ("sort=password", "Select a valid choice"),
    ("after=yesterday-ish", "Enter a valid date/time"),
    ("colour=red", "“colour” is not a filter of the journeys list"),
])
def test_a_query_the_list_would_refuse_is_refused_beside_the_query(case_handler: User, query: str,
                                                                  message: str) -> None:
    make_journey("j1")
    make_journey("x1", workflow_id=WF_OUTSIDE, workflow_name="Batch")
    assert message in refusal(lambda: savedview_create(owner=case_handler, name="Bad", query=query), "query")
    assert not SavedView.objects.exists()


def test_an_owner_keeps_at_most_100_views(case_handler: User) -> None:
    now = timezone.now()
    SavedView.objects.bulk_create(SavedView(owner=case_handler, name=f"v{index}", created_at=now, updated_at=now)
                                  for index in range(MAX_VIEWS_PER_OWNER - 1))
    assert savedview_create(owner=case_handler, name="The hundredth", query="")
    message = refusal(lambda: savedview_create(owner=case_handler, name="One more", query=""), None)
    assert "100 saved views" in message
    assert SavedView.objects.filter(owner=case_handler).count() == MAX_VIEWS_PER_OWNER


def test_at_most_5_views_are_pinned(case_handler: User) -> None:
    views = [savedview_create(owner=case_handler, name=f"v{index}", query="") for index in range(MAX_PINNED + 1)]
    for view in views[:MAX_PINNED]:
        assert savedview_pin(user=case_handler, view_id=view.pk) is True
    message = refusal(lambda: savedview_pin(user=case_handler, view_id=views[-1].pk), "pin")
    assert "at most 5 views" in message
    assert "at most 5 views" in refusal(
        lambda: savedview_create(owner=case_handler, name="pinned too", query="", pin=True), "pin")
    assert [view.pk for view in savedview_pinned(user=case_handler)] == [view.pk for view in views[:MAX_PINNED]]
    assert savedview_pin(user=case_handler, view_id=views[0].pk) is False
    assert savedview_pin(user=case_handler, view_id=views[-1].pk, pinned=True) is True
    # Asking for what already is changes nothing and records nothing.
    before = len(events("savedview.pin"))
    assert savedview_pin(user=case_handler, view_id=views[-1].pk, pinned=True) is True
    assert len(events("savedview.pin")) == before == MAX_PINNED + 2


def test_a_person_shares_only_with_their_own_teams(case_handler: User, approver: User) -> None:
    message = refusal(lambda: savedview_create(owner=case_handler, name="Shared", query="",
                                               teams=[team("Approvers")]), "teams")
    assert "Approvers" in message


def test_someone_who_manages_access_shares_with_any_team(admin: User) -> None:
    view = savedview_create(owner=admin, name="For approvers", query="", teams=[team("Approvers")])
    assert [t.name for t in view.teams.all()] == ["Approvers"]


def test_only_the_owner_changes_or_deletes_a_view_others_only_pin_it(case_handler: User) -> None:
    colleague = make_user("colleague", "Case handlers")
    stranger = make_user("stranger", "Operators")
    view = savedview_create(owner=case_handler, name="Team list", query="status=active",
                            teams=[team("Case handlers")])
    with pytest.raises(NotAllowed):
        savedview_update(actor=colleague, view_id=view.pk, name="Hijacked", query="", teams=[])
    with pytest.raises(NotAllowed):
        savedview_delete(actor=colleague, view_id=view.pk)
    for call in (lambda: savedview_update(actor=stranger, view_id=view.pk, name="x", query="", teams=[]),
                 lambda: savedview_delete(actor=stranger, view_id=view.pk),
                 lambda: savedview_pin(user=stranger, view_id=view.pk)):
        with pytest.raises(NotVisible):
            call()
    assert savedview_pin(user=colleague, view_id=view.pk) is True
    view.refresh_from_db()
    assert view.name == "Team list" and view.query == "status=active"


def test_nobody_without_the_right_to_view_journeys_uses_saved_views(outsider: User) -> None:
    with pytest.raises(NotAllowed):
        savedview_create(owner=outsider, name="Nothing", query="")


def test_an_update_is_audited_with_before_and_after_and_moves_the_view_on(case_handler: User) -> None:
    view = savedview_create(owner=case_handler, name="Before", query="status=active")
    updated = savedview_update(actor=case_handler, view_id=view.pk, name="After", query="status=finished",
                               teams=[team("Case handlers")])
    assert updated.updated_at > view.updated_at
    [event] = events("savedview.update")
    assert event.detail["before"] == {"view_id": view.pk, "name": "Before", "query": "status=active", "teams": []}
    assert event.detail["after"] == {"view_id": view.pk, "name": "After", "query": "status=finished",
                                     "teams": ["Case handlers"]}


def test_an_owner_may_keep_or_drop_a_team_they_left_but_not_add_one(case_handler: User) -> None:
    view = savedview_create(owner=case_handler, name="Shared", query="", teams=[team("Case handlers")])
    case_handler.groups.clear()
    case_handler.groups.add(team("Operators"))
    case_handler = User.objects.get(pk=case_handler.pk)
    kept = savedview_update(actor=case_handler, view_id=view.pk, name="Shared", query="",
                            teams=[Group.objects.get(name="Case handlers")])
    assert [t.name for t in kept.teams.all()] == ["Case handlers"]
    assert "Approvers" in refusal(lambda: savedview_update(actor=case_handler, view_id=view.pk, name="Shared",
                                                           query="", teams=[team("Approvers")]), "teams")


def test_deleting_a_view_drops_every_pin_of_it_and_is_audited(case_handler: User) -> None:
    colleague = make_user("colleague", "Case handlers")
    view = savedview_create(owner=case_handler, name="Gone soon", query="", teams=[team("Case handlers")], pin=True)
    savedview_pin(user=colleague, view_id=view.pk)
    assert savedview_delete(actor=case_handler, view_id=view.pk) == "Gone soon"
    assert not SavedViewPin.objects.exists()
    [event] = events("savedview.delete")
    assert event.detail["name"] == "Gone soon"


def test_a_view_unshared_from_a_team_leaves_its_members_navigation(case_handler: User) -> None:
    colleague = make_user("colleague", "Case handlers")
    view = savedview_create(owner=case_handler, name="Was shared", query="", teams=[team("Case handlers")])
    savedview_pin(user=colleague, view_id=view.pk)
    assert savedview_pinned(user=colleague) == [view]
    savedview_update(actor=case_handler, view_id=view.pk, name="Was shared", query="", teams=[])
    assert savedview_pinned(user=colleague) == []


def test_empty_inputs_of_the_list_form_are_not_kept_and_repeated_filters_keep_their_order(case_handler: User) -> None:
    view = savedview_create(owner=case_handler, name="Tidy",
                            query="q=&status=active&workflow=&per_page=25&sort=&q=&page=2&status=finished")
    assert view.query == "status=active&status=finished&per_page=25"


@pytest.mark.django_db(transaction=True)
def test_two_pins_at_once_never_pass_the_limit(postgresql: None, case_handler: User) -> None:
    views = [savedview_create(owner=case_handler, name=f"v{index}", query="", pin=index < MAX_PINNED - 1)
             for index in range(MAX_PINNED + 1)]
    start = threading.Barrier(2)
    results: list[object] = []

    def pin(view_id: int) -> None:
        try:
            start.wait()
            results.append(savedview_pin(user=case_handler, view_id=view_id, pinned=True))
        except FieldRefused as exc:
            results.append(exc.field)
        finally:
            connection.close()

    threads = [threading.Thread(target=pin, args=(view.pk,)) for view in views[-2:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, results)) == ["True", "pin"]
    assert SavedViewPin.objects.filter(user=case_handler).count() == MAX_PINNED


def test_a_view_cannot_keep_a_personal_value(case_handler: User, admin: User) -> None:
    declaration_save(actor=admin, workflow_id=WF_INSIDE, version=1,
                     fields=[{"path": "steps.login.nationalId", "kind": "national_id"}])
    with pytest.raises(FieldRefused, match="cannot keep a personal value") as refused:
        savedview_create(owner=case_handler, name="One person", query="data=login.nationalId+%3D+14038512324")
    assert refused.value.field == "query"
    assert not SavedView.objects.exists()
    assert not AuditEvent.objects.filter(action="savedview.create").exists()
    # Whether it is there is no value; neither is a filter on a field that is not personal.
    savedview_create(owner=case_handler, name="Has an id", query="data=login.nationalId+exists")
    savedview_create(owner=case_handler, name="Product", query="data=product+%3D+Savings")
