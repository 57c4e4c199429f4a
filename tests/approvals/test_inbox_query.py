"""The inbox's query over the mirror: exactly the active journeys with a step waiting on the user's kind of action,
in workflows the user's scope covers. Random sets of journeys and waiting steps (Hypothesis), no Mint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals.selectors import InboxFilters, Kind, inbox_count, inbox_rows, waiting_journeys
from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Journey, JourneyStatus, WaitingStep
from tests.personas import WF_CONTRACTS, WF_INSIDE, WF_OUTSIDE

pytestmark = pytest.mark.django_db

WF_UNKNOWN = "wf-unknown"
EVERY_WORKFLOW = {WF_INSIDE, WF_CONTRACTS, WF_OUTSIDE, WF_UNKNOWN}
# What each persona may act on, as tests/personas.py sets up their teams (the admin's scope covers every
# workflow, even one the workflow mirror does not know).
APPROVES = {"approver": {WF_INSIDE, WF_CONTRACTS}, "handler": set(), "admin": EVERY_WORKFLOW}
CONTINUES = {"approver": set(), "handler": {WF_INSIDE, WF_CONTRACTS}, "admin": EVERY_WORKFLOW}

step_types = st.sampled_from([APPROVAL_STEP, SUSPEND_STEP, "form", "timer"])
journeys = st.lists(
    st.fixed_dictionaries({
        "workflow_id": st.sampled_from(sorted(EVERY_WORKFLOW)),
        "status": st.sampled_from(list(JourneyStatus.values)),
        "gone": st.booleans(),
        # Step ids that look like serialised JSON of another type must not fool the query.
        "steps": st.lists(st.tuples(st.sampled_from(["check", "hold", '"stepType": "require-approval"']),
                                    step_types), max_size=3),
    }),
    max_size=8,
)


def store(specs: list[dict]) -> None:
    Journey.objects.all().delete()
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


def expected(specs: list[dict], username: str, kind: str) -> set[str]:
    wanted = {Kind.APPROVAL: [(APPROVAL_STEP, APPROVES)], Kind.CONTINUE: [(SUSPEND_STEP, CONTINUES)],
              "": [(APPROVAL_STEP, APPROVES), (SUSPEND_STEP, CONTINUES)]}[kind]
    return {
        f"j{number}" for number, spec in enumerate(specs)
        if spec["status"] == JourneyStatus.ACTIVE and not spec["gone"]
        and any(step_type == wanted_type and spec["workflow_id"] in allowed[username]
                for _, step_type in spec["steps"] for wanted_type, allowed in wanted)
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=journeys, kind=st.sampled_from(["", Kind.APPROVAL, Kind.CONTINUE]))
def test_the_inbox_holds_exactly_the_journeys_waiting_on_what_the_user_may_do(
    specs: list[dict], kind: str, approver: User, case_handler: User, admin: User
) -> None:
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
