"""A workflow graph's step figures (journeys.step_stats, journeys.step_views): journeys waiting at each step, journeys
faulted there, and the median time in the step over the last 30 days; each count links to the journeys list.

Random mirrors (Hypothesis) of journeys with statuses, waiting steps, step visits from their logs (some faulted),
alerts (some malformed) and scopes: each count equals a brute-force count over what the user may view (faulted at S:
faulted, and the log says S faulted; alerts, raised by the trigger-alert steps before the fault, place no journey),
equals the rows of the list it links to, and the median equals ``statistics.median`` over the
visits that ended inside the window.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import fields
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.models import Journey, JourneyStatus, StepVisit, WaitingStep
from journeys.selectors import JourneyFilters, journey_list
from journeys.services.mirror import journey_mirror_changed
from journeys.step_stats import WINDOW_DAYS, step_faulted_unplaced, step_median_seconds, workflow_step_stats
from tests.journeys.conftest import BASE_TIME
from tests.personas import WF_CONTRACTS, WF_INSIDE, WF_OUTSIDE, make_user, place_workflow
from tests.sandbox.helpers import Api, chain, step

pytestmark = pytest.mark.django_db

WORKFLOWS = [WF_INSIDE, WF_CONTRACTS, WF_OUTSIDE]
# What each persona may view (tests/personas.py): the approver's and case handler's teams cover the onboarding and
# contracts tags, the admin every workflow, the outsider none.
VIEWS = {"approver": {WF_INSIDE, WF_CONTRACTS}, "admin": set(WORKFLOWS), "outsider": set()}
# A step id a URL must encode, and one that looks like JSON of an alert.
STEPS = ["check", "hold", "a b&step=c", '"stepId": "check"']

alerts = st.lists(st.one_of(
    st.builds(lambda step_id, severity: {"stepId": step_id, "severity": severity, "message": "m"},
              st.sampled_from(STEPS), st.sampled_from(["info", "warning", "critical"])),
    # Malformed alerts name no step: a number for a step id, no step id, not an object at all.
    st.sampled_from([{"stepId": 5, "severity": "info", "message": "m"}, {"severity": "info"}, "check", 7]),
), max_size=3)
journeys = st.lists(st.fixed_dictionaries({
    "workflow_id": st.sampled_from(WORKFLOWS),
    "status": st.sampled_from(list(JourneyStatus.values)),
    "gone": st.booleans(),
    "steps": st.lists(st.sampled_from(STEPS), max_size=2),
    "alerts": alerts,
    # The journey's log as the step-history job stored it: (step, whether it faulted) per visit.
    "visits": st.lists(st.tuples(st.sampled_from(STEPS), st.booleans()), max_size=3),
}), max_size=10)


def store(specs: list[dict[str, Any]]) -> None:
    Journey.objects.all().delete()
    for number, spec in enumerate(specs):
        journey = Journey.objects.create(
            id=f"j{number}", workflow_id=spec["workflow_id"], version=1, status=spec["status"], seen_at=BASE_TIME,
            pending_steps=bool(spec["steps"]), alerts=spec["alerts"], alert_count=len(spec["alerts"]),
            gone_at=BASE_TIME if spec["gone"] else None, last_executed_at=BASE_TIME,
        )
        WaitingStep.objects.bulk_create(WaitingStep(journey=journey, step_id=step_id, step_type="suspend",
                                                    position=position)
                                        for position, step_id in enumerate(spec["steps"]))
        StepVisit.objects.bulk_create(StepVisit(journey=journey, workflow_id=spec["workflow_id"], step_id=step_id,
                                                position=position, faulted=faulted)
                                      for position, (step_id, faulted) in enumerate(spec["visits"]))
    journey_mirror_changed()


def visible(spec: dict[str, Any], username: str, workflow_id: str) -> bool:
    return spec["workflow_id"] == workflow_id and workflow_id in VIEWS[username] and not spec["gone"]


def expected_waiting(specs: list[dict[str, Any]], username: str, workflow_id: str, step_id: str) -> int:
    return sum(1 for spec in specs if visible(spec, username, workflow_id) and step_id in spec["steps"])


def faulted_steps(spec: dict[str, Any]) -> list[str]:
    """Where a journey faulted: the steps its log says faulted, if it is faulted (its alerts do not count)."""
    if spec["status"] != JourneyStatus.FAULTED:
        return []
    return list(dict.fromkeys(step_id for step_id, faulted in spec["visits"] if faulted))


def expected_faulted(specs: list[dict[str, Any]], username: str, workflow_id: str, step_id: str) -> int:
    return sum(1 for spec in specs if visible(spec, username, workflow_id) and step_id in faulted_steps(spec))


def expected_unplaced(specs: list[dict[str, Any]], username: str, workflow_id: str) -> int:
    return sum(1 for spec in specs if visible(spec, username, workflow_id) and spec["status"] == JourneyStatus.FAULTED
               and not faulted_steps(spec))


@pytest.fixture
def personas(scoped_workflows) -> dict[str, User]:
    return {"approver": make_user("approver", "Approvers"), "admin": make_user("admin", "Admins", staff=True),
            "outsider": make_user("outsider")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=journeys)
def test_each_count_is_the_journeys_the_user_may_view_at_that_step(specs: list[dict[str, Any]],
                                                                   personas: dict[str, User]) -> None:
    store(specs)
    for username, user in personas.items():
        for workflow_id in WORKFLOWS:
            figures = workflow_step_stats(user=user, workflow_id=workflow_id, step_ids=STEPS)
            for step_id in STEPS:
                assert figures[step_id].waiting == expected_waiting(specs, username, workflow_id, step_id)
                assert figures[step_id].faulted == expected_faulted(specs, username, workflow_id, step_id)
            unplaced = step_faulted_unplaced(user=user, workflow_id=workflow_id)
            assert unplaced == expected_unplaced(specs, username, workflow_id)
            if workflow_id not in VIEWS[username]:
                assert not any(figure.waiting or figure.faulted for figure in figures.values()) and not unplaced


def test_the_links_open_the_list_filtered_to_the_workflow_the_status_and_the_step(personas: dict[str, User]) -> None:
    figures = workflow_step_stats(user=personas["admin"], workflow_id=WF_INSIDE, step_ids=["a b&step=c"])
    waiting, faulted = (urlsplit(figures["a b&step=c"].waiting_url), urlsplit(figures["a b&step=c"].faulted_url))

    assert waiting.path == faulted.path == reverse("journeys:list")
    assert parse_qs(waiting.query) == {"workflow": [WF_INSIDE], "step": ["a b&step=c"]}
    assert parse_qs(faulted.query) == {"workflow": [WF_INSIDE], "status": ["faulted"], "step": ["a b&step=c"]}


LIST_HAS_STEP_FILTER = "step" in {field.name for field in fields(JourneyFilters)}


def list_count(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200
    found = re.search(r"<strong>(\d+)</strong> journeys?", response.content.decode())
    assert found, "the list states how many journeys match"
    return int(found.group(1))


@pytest.mark.skipif(not LIST_HAS_STEP_FILTER, reason="the journeys list has no step filter yet (issue 14, H1)")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=journeys)
def test_each_count_equals_the_rows_of_the_list_it_links_to(specs: list[dict[str, Any]],
                                                            personas: dict[str, User]) -> None:
    store(specs)
    by_id = {f"j{number}": spec for number, spec in enumerate(specs)}
    for username in ("approver", "admin"):
        client = Client()
        client.force_login(personas[username])
        for workflow_id in VIEWS[username]:
            figures = workflow_step_stats(user=personas[username], workflow_id=workflow_id, step_ids=STEPS)
            for figure in figures.values():
                if figure.waiting:
                    assert list_count(client, figure.waiting_url) == figure.waiting
                if figure.faulted:
                    assert list_count(client, figure.faulted_url) == figure.faulted
                # Each faulted row of the list names the steps its log says faulted, the graph's steps for it.
                filters = JourneyFilters(workflow_id=workflow_id, status=JourneyStatus.FAULTED, step=figure.step_id)
                rows = journey_list(user=personas[username], filters=filters, page=1, per_page=50).object_list
                assert len(rows) == figure.faulted
                for row in rows:
                    assert row.current_steps == tuple(faulted_steps(by_id[row.journey.id]))
                    assert figure.step_id in row.current_steps


# --- the median ---------------------------------------------------------------------------------------------

NOW = BASE_TIME
EDGE = NOW - timedelta(days=WINDOW_DAYS)
# When a visit ended, in seconds after the window's start: just outside (at or before it), just inside, deep
# inside, at ``now``, and after ``now``.
ends = st.one_of(st.sampled_from([-1, 0, 1, WINDOW_DAYS * 86400, WINDOW_DAYS * 86400 + 1]),
                 st.integers(min_value=-86400, max_value=WINDOW_DAYS * 86400 + 86400))
visits = st.lists(st.fixed_dictionaries({
    "workflow_id": st.sampled_from(WORKFLOWS),
    "gone": st.booleans(),
    "step_id": st.sampled_from(STEPS[:2]),
    "end": st.one_of(st.none(), ends),
    "seconds": st.floats(min_value=0, max_value=10 * 86400, allow_nan=False),
}), max_size=12)


def store_visits(specs: list[dict[str, Any]]) -> None:
    Journey.objects.all().delete()
    for number, spec in enumerate(specs):
        Journey.objects.create(id=f"v{number}", workflow_id=spec["workflow_id"], version=1, status="finished",
                               seen_at=NOW, gone_at=NOW if spec["gone"] else None)
        ended = None if spec["end"] is None else EDGE + timedelta(seconds=spec["end"])
        StepVisit.objects.create(
            journey_id=f"v{number}", workflow_id=spec["workflow_id"], step_id=spec["step_id"], position=0,
            started_at=None if ended is None else ended - timedelta(seconds=spec["seconds"]), ended_at=ended,
            seconds=None if ended is None else spec["seconds"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=visits)
def test_the_median_is_over_the_visits_that_ended_within_the_last_30_days(specs: list[dict[str, Any]],
                                                                          personas: dict[str, User]) -> None:
    store_visits(specs)
    for username, user in personas.items():
        for workflow_id in WORKFLOWS:
            found = step_median_seconds(user=user, workflow_id=workflow_id, now=NOW)
            inside: dict[str, list[float]] = {}
            for spec in specs:
                # Whoever may view the workflow sees all its visits, those of journeys gone from Mint too.
                if (spec["workflow_id"] == workflow_id and workflow_id in VIEWS[username] and spec["end"] is not None
                        and 0 < spec["end"] <= WINDOW_DAYS * 86400):
                    inside.setdefault(spec["step_id"], []).append(spec["seconds"])
            assert set(found) == set(inside)
            for step_id, durations in inside.items():
                median, count = found[step_id]
                assert count == len(durations)
                assert median == pytest.approx(statistics.median(durations), rel=1e-9, abs=1e-6)


# --- the page region ----------------------------------------------------------------------------------------


@pytest.fixture
def counted_workflow(mint_settings, api: Api) -> str:
    """A sandbox workflow inside the personas' onboarding scope, with mirror rows: two journeys waiting at
    ``hold`` (one gone), one faulted at ``check`` (its log says so; its alert was raised at ``hold``, before), one
    visit of ``check`` that took 90 s yesterday."""
    workflow = api.create_workflow(chain(step("check", "set-name", template="Case"), step("hold", "suspend"),
                                         step("done", "finish")))
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    for number, (status, gone) in enumerate([("active", False), ("active", True), ("faulted", False)]):
        journey = Journey.objects.create(
            id=f"c{number}", workflow_id=workflow["id"], version=1, status=status, seen_at=NOW,
            gone_at=NOW if gone else None,
            alerts=[{"stepId": "hold", "severity": "critical", "message": "m"}] if status == "faulted" else [])
        if status == "active":
            WaitingStep.objects.create(journey=journey, step_id="hold", step_type="suspend")
    ended = timezone.now() - timedelta(days=1)
    StepVisit.objects.create(journey_id="c2", workflow_id=workflow["id"], step_id="check", position=0,
                             started_at=ended - timedelta(seconds=90), ended_at=ended, seconds=90.0, faulted=True)
    journey_mirror_changed()
    return str(workflow["id"])


def test_the_region_shows_each_steps_figures_with_links_and_labels(counted_workflow: str,
                                                                   personas: dict[str, User]) -> None:
    client = Client()
    client.force_login(personas["approver"])

    response = client.get(reverse("journeys:workflow_steps", args=[counted_workflow]), headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and 'id="step-graph"' in page
    assert "1 waiting" in page and "1 faulted" in page and "median 1 min, 1 visit" in page
    assert 'aria-label="1 waiting at hold: open the list of these journeys"' in page
    assert f'href="/journeys/?workflow={counted_workflow}&amp;step=hold"' in page
    assert f'href="/journeys/?workflow={counted_workflow}&amp;status=faulted&amp;step=check"' in page
    # The alert raised at hold does not place the journey there.
    assert 'aria-label="1 faulted at check"' in page and 'aria-label="0 faulted at hold"' in page


def test_without_htmx_the_region_is_a_page_of_its_own(counted_workflow: str, personas: dict[str, User]) -> None:
    client = Client()
    client.force_login(personas["approver"])

    response = client.get(reverse("journeys:workflow_steps", args=[counted_workflow]))

    assert response.status_code == 200
    assert "<html" in response.content.decode() and "Where journeys wait" in response.content.decode()


def test_a_workflow_outside_the_scope_is_not_found(counted_workflow: str, personas: dict[str, User]) -> None:
    place_workflow(counted_workflow, tags=["batch"])
    client = Client()
    client.force_login(personas["approver"])

    assert client.get(reverse("journeys:workflow_steps", args=[counted_workflow])).status_code == 404


@pytest.mark.parametrize("version, status", [("1", 200), ("0", 400), ("x", 400), ("2147483648", 400)])
def test_the_version_is_checked_like_the_workflow_pages(counted_workflow: str, personas: dict[str, User],
                                                        version: str, status: int) -> None:
    client = Client()
    client.force_login(personas["admin"])

    response = client.get(reverse("journeys:workflow_steps", args=[counted_workflow]), {"version": version})

    assert response.status_code == status


def test_the_workflow_page_loads_the_region_and_links_to_it(counted_workflow: str, personas: dict[str, User]) -> None:
    client = Client()
    client.force_login(personas["approver"])

    page = client.get(reverse("workflows:detail", args=[counted_workflow])).content.decode()

    region = reverse("journeys:workflow_steps", args=[counted_workflow])
    assert f'hx-get="{region}?version=1"' in page and f'href="{region}?version=1"' in page
