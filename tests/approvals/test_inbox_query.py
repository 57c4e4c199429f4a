"""The inbox's query over the mirror: exactly the active journeys with a step waiting on the user's kind of action,
in workflows the user's scope covers, sorted into tabs by who holds them and what the user has approved already.
Random sets of journeys, waiting steps, claims, decisions and approvals (Hypothesis), no Mint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals.models import ApprovalVote, Decision
from approvals.selectors import (
    Assignment,
    InboxFilters,
    Kind,
    inbox_count,
    inbox_page,
    inbox_rows,
    inbox_tab_counts,
    waiting_journeys,
)
from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Claim, Journey, JourneyStatus, WaitingStep
from tests.personas import WF_CONTRACTS, WF_INSIDE, WF_OUTSIDE

pytestmark = pytest.mark.django_db

WF_UNKNOWN = "wf-unknown"
EVERY_WORKFLOW = {WF_INSIDE, WF_CONTRACTS, WF_OUTSIDE, WF_UNKNOWN}
# What each persona may act on, as tests/personas.py sets up their teams (the admin's scope covers every
# workflow, even one the workflow mirror does not know).
APPROVES = {"approver": {WF_INSIDE, WF_CONTRACTS}, "handler": set(), "admin": EVERY_WORKFLOW}
CONTINUES = {"approver": set(), "handler": {WF_INSIDE, WF_CONTRACTS}, "admin": EVERY_WORKFLOW}

step_types = st.sampled_from([APPROVAL_STEP, SUSPEND_STEP, "form", "timer"])
STEP_IDS = ["check", "hold", '"stepType": "require-approval"']
USERNAMES = ["approver", "handler", "admin"]
journeys = st.lists(
    st.fixed_dictionaries({
        "workflow_id": st.sampled_from(sorted(EVERY_WORKFLOW)),
        "status": st.sampled_from(list(JourneyStatus.values)),
        "gone": st.booleans(),
        # Step ids that look like serialised JSON of another type must not fool the query.
        "steps": st.lists(st.tuples(st.sampled_from(STEP_IDS), step_types), max_size=3),
        # Who holds the case (a claim is kept even where the mirror's rows say nothing waits any more).
        "holder": st.sampled_from([None, *USERNAMES]),
        # step id → how many decisions of it were sent to Mint; one more is the occurrence open now.
        "sent": st.dictionaries(st.sampled_from(STEP_IDS), st.integers(min_value=0, max_value=2), max_size=2),
        # (step id, occurrence, who approved): approvals recorded for open and past occurrences alike.
        "votes": st.lists(st.tuples(st.sampled_from(STEP_IDS), st.integers(min_value=1, max_value=3),
                                    st.sampled_from(USERNAMES)), max_size=4, unique=True),
    }),
    max_size=8,
)


def store(specs: list[dict]) -> None:
    Journey.objects.all().delete()
    Decision.objects.all().delete()
    ApprovalVote.objects.all().delete()
    users = {user.username: user for user in User.objects.filter(username__in=USERNAMES)}
    now = timezone.now()
    for number, spec in enumerate(specs):
        journey = Journey.objects.create(
            id=f"j{number}", workflow_id=spec["workflow_id"], version=1, status=spec["status"],
            seen_at=now, waiting_since=now - timedelta(minutes=number), pending_steps=bool(spec["steps"]),
            gone_at=now if spec["gone"] else None,
        )
        WaitingStep.objects.bulk_create(
            WaitingStep(journey=journey, step_id=step_id, step_type=step_type, position=position)
            for position, (step_id, step_type) in enumerate(spec["steps"])
        )
        if spec.get("holder"):
            Claim.objects.create(journey=journey, step_id="hold", user=users[spec["holder"]], claimed_at=now)
        for step_id, sent in spec.get("sent", {}).items():
            for occurrence in range(1, sent + 1):
                Decision.objects.create(
                    journey_id=journey.id, step_id=step_id, occurrence=occurrence, workflow_id=journey.workflow_id,
                    approved=True, decided_by_username="admin", decided_at=now, status=Decision.Status.SENT)
            # One being sent now: it does not close the occurrence yet.
            Decision.objects.create(
                journey_id=journey.id, step_id=step_id, occurrence=sent + 1, workflow_id=journey.workflow_id,
                approved=True, decided_by_username="admin", decided_at=now, status=Decision.Status.PENDING)
        for step_id, occurrence, username in spec.get("votes", []):
            ApprovalVote.objects.create(journey_id=journey.id, step_id=step_id, occurrence=occurrence,
                                        workflow_id=journey.workflow_id, user=users[username], username=username,
                                        at=now)


def expected(specs: list[dict], username: str, kind: str) -> set[str]:
    wanted = {Kind.APPROVAL: [(APPROVAL_STEP, APPROVES)], Kind.CONTINUE: [(SUSPEND_STEP, CONTINUES)],
              "": [(APPROVAL_STEP, APPROVES), (SUSPEND_STEP, CONTINUES)]}[kind]
    return {
        f"j{number}" for number, spec in enumerate(specs)
        if spec["status"] == JourneyStatus.ACTIVE and not spec["gone"]
        and any(step_type == wanted_type and spec["workflow_id"] in allowed[username]
                for _, step_type in spec["steps"] for wanted_type, allowed in wanted)
    }


def open_approvals_left(spec: dict, username: str) -> bool:
    """Whether one of the journey's approval steps the user may decide is still open to their approval."""
    return spec["workflow_id"] in APPROVES[username] and any(
        step_type == APPROVAL_STEP and (step_id, spec["sent"].get(step_id, 0) + 1, username) not in spec["votes"]
        for step_id, step_type in spec["steps"]
    )


def expected_tabs(specs: list[dict], username: str, kind: str) -> dict[str, set[str]]:
    """Each tab by brute force: "" what still needs the user, split by holder; "others" what they approved."""
    acting = expected(specs, username, kind)
    pending = {
        f"j{number}" for number, spec in enumerate(specs) if f"j{number}" in acting and (
            (kind in ("", Kind.CONTINUE) and spec["workflow_id"] in CONTINUES[username]
             and any(step_type == SUSPEND_STEP for _, step_type in spec["steps"]))
            or (kind in ("", Kind.APPROVAL) and open_approvals_left(spec, username)))
    }
    holders = {f"j{number}": spec["holder"] for number, spec in enumerate(specs)}
    return {
        Assignment.ALL: pending,
        Assignment.MINE: {journey for journey in pending if holders[journey] == username},
        Assignment.UNASSIGNED: {journey for journey in pending if holders[journey] is None},
        Assignment.OTHERS: acting - pending,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=journeys, kind=st.sampled_from(["", Kind.APPROVAL, Kind.CONTINUE]))
def test_the_inbox_holds_exactly_the_journeys_waiting_on_what_the_user_may_do(
    specs: list[dict], kind: str, approver: User, case_handler: User, admin: User
) -> None:
    # This test is about who may act at all: nobody holds a case and nobody has approved anything yet.
    specs = [{**spec, "holder": None, "sent": {}, "votes": []} for spec in specs]
    store(specs)
    for user in (approver, case_handler, admin):
        found = waiting_journeys(user=user, filters=InboxFilters(kind=kind))
        ids = list(found.values_list("id", flat=True))
        # One row per journey however many of its steps wait, so pages and the badge count journeys.
        assert len(ids) == len(set(ids))
        assert set(ids) == expected(specs, user.username, kind)
        if not kind:
            assert inbox_count(user=user) == len(ids)
        # Every row found has at least one step the user may act on, of the kind asked for.
        assert {row.journey.id for row in inbox_rows(user=user, journeys=found, kind=kind)} == set(ids)


def test_an_outsider_has_an_empty_inbox(outsider: User) -> None:
    store([{"workflow_id": WF_INSIDE, "status": "active", "gone": False, "steps": [("check", APPROVAL_STEP)]}])
    assert list(waiting_journeys(user=outsider, filters=InboxFilters())) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=journeys, kind=st.sampled_from(["", Kind.APPROVAL, Kind.CONTINUE]))
def test_each_tab_holds_exactly_its_journeys_and_the_tabs_divide_the_work_as_documented(
    specs: list[dict], kind: str, approver: User, case_handler: User, admin: User
) -> None:
    store(specs)
    for warmth in ("cold", "warm"):
        if warmth == "cold":
            # Nothing cached: neither the shared cache nor the scopes a user object keeps for its request.
            cache.clear()
            people = list(User.objects.filter(username__in=USERNAMES).order_by("username"))
        for user in people:
            wanted = expected_tabs(specs, user.username, kind)
            found = {tab: list(waiting_journeys(user=user, filters=InboxFilters(kind=kind, assignment=tab))
                               .values_list("id", flat=True)) for tab, _ in Assignment.CHOICES}
            assert {tab: set(ids) for tab, ids in found.items()} == wanted, (warmth, user.username)
            assert all(len(ids) == len(set(ids)) for ids in found.values())
            # "mine" and "unassigned" are disjoint parts of ""; "others" is apart from all of them; "" and "others"
            # together are everything the user may act on.
            mine, unassigned, everything, others = (set(found[tab]) for tab in (
                Assignment.MINE, Assignment.UNASSIGNED, Assignment.ALL, Assignment.OTHERS))
            assert not mine & unassigned and mine | unassigned <= everything and not everything & others
            assert everything | others == expected(specs, user.username, kind)
            counts = inbox_tab_counts(user=user, filters=InboxFilters(kind=kind))
            assert counts == {tab: len(ids) for tab, ids in wanted.items()}
            if not kind:
                assert inbox_count(user=user) == len(wanted[Assignment.ALL])
            holders = {f"j{number}": spec["holder"] for number, spec in enumerate(specs)}
            for row in inbox_rows(user=user, journeys=waiting_journeys(user=user, filters=InboxFilters(kind=kind))):
                assert row.holder == holders[row.journey.id]
                assert row.held_by_me == (row.holder == user.username)


def test_the_inbox_reads_a_bounded_number_of_queries_however_many_rows_it_shows(
    approver: User, admin: User, django_assert_max_num_queries
) -> None:
    def spec(number: int) -> dict:
        return {"workflow_id": WF_INSIDE if number % 2 else WF_CONTRACTS, "status": "active", "gone": False,
                "steps": [("check", APPROVAL_STEP), ("hold", SUSPEND_STEP)],
                "holder": "approver" if number % 3 else None, "sent": {"check": number % 2},
                "votes": [("check", 1, "approver"), ("check", 2, "admin")]}

    used = []
    for size in (3, 24):
        store([spec(number) for number in range(size)])
        user = User.objects.get(pk=approver.pk)
        # The scopes (and the tags they name), the SLA rules, the page's count and rows, then per page: waiting
        # steps, claims, decisions and approvals; the tab counts are one more.
        with django_assert_max_num_queries(12) as captured:
            page, rows = inbox_page(user=user, filters=InboxFilters(), page_number=1)
            counts = inbox_tab_counts(user=user)
        used.append(len(captured))
        assert counts[Assignment.ALL] == len(rows) and 0 < len(rows) <= size
        assert page.paginator.count == counts[Assignment.ALL]
        assert sum(row.held_by_me for row in rows) == counts[Assignment.MINE]
    assert used[0] == used[1], "no query per row"
