"""The step-history job against the sandbox over HTTP: it reads the execution log of journeys that changed, at most
N per run, faulted ones first, never twice for an unchanged journey, and stops at a Mint error; the log places a
faulted journey at the step that faulted (not at the trigger-alert step before it) in the list and the graph."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.models import Journey, JourneyStatus, StepVisit
from journeys.selectors import JourneyFilters, journey_list
from journeys.services.step_history import step_history_pending, step_history_refresh
from journeys.services.sync import journey_sync
from journeys.step_stats import step_faulted_unplaced, step_medians_cached, workflow_step_stats
from tests.journeys.conftest import BASE_TIME, make_journey
from tests.sandbox.helpers import Api, chain, step

pytestmark = pytest.mark.django_db


def held_journeys(api: Api, count: int) -> tuple[str, list[str]]:
    """A workflow whose journeys run ``name`` and wait at ``hold`` (a suspend step), and ``count`` journeys of it."""
    workflow = api.create_workflow(chain(step("name", "set-name", template="Case"), step("hold", "suspend"),
                                         step("done", "finish")))
    return workflow["id"], [api.start(workflow["id"])["journeyId"] for _ in range(count)]


def mirror_only(workflow_id: str) -> None:
    """Syncs the mirror and keeps only this workflow's journeys (the session's sandbox keeps earlier tests' ones)."""
    journey_sync()
    Journey.objects.exclude(workflow_id=workflow_id).delete()


def resume(api: Api, journey_id: str) -> None:
    response = api.post(f"journeys/{journey_id}/resume", json={"stepId": "hold", "input": {"ok": True}})
    assert response.status_code in (200, 202, 204), response.text


def test_it_reads_at_most_n_logs_per_run_and_never_twice_for_an_unchanged_journey(mint_settings, api, sandbox):
    workflow_id, journey_ids = held_journeys(api, 5)
    mirror_only(workflow_id)
    sandbox.reset_counters()

    runs = [step_history_refresh(limit=2) for _ in range(4)]

    assert [run.mint_calls for run in runs] == [2, 2, 1, 0]
    assert sandbox.count("getJourneyLog") == 5
    assert set(Journey.objects.exclude(history_status="").values_list("id", flat=True)) == set(journey_ids)
    visits = StepVisit.objects.filter(journey_id=journey_ids[0])
    assert [(visit.step_id, visit.ended_at is not None) for visit in visits] == [("name", True), ("hold", False)]
    assert all(visit.workflow_id == workflow_id and not visit.faulted for visit in visits)


def test_a_journey_that_moved_on_is_read_again_and_its_visits_replaced(mint_settings, api, sandbox,
                                                                     superuser: User):
    workflow_id, journey_ids = held_journeys(api, 3)
    mirror_only(workflow_id)
    step_history_refresh()
    assert "hold" not in step_medians_cached(user=superuser, workflow_id=workflow_id)
    resume(api, journey_ids[1])
    mirror_only(workflow_id)
    sandbox.reset_counters()

    run = step_history_refresh()

    assert run.mint_calls == 1 and sandbox.count("getJourneyLog") == 1
    visits = list(StepVisit.objects.filter(journey_id=journey_ids[1]))
    assert [visit.step_id for visit in visits] == ["name", "hold", "done"]
    assert all(visit.ended_at is not None and visit.seconds is not None for visit in visits[:2])
    # The run's figures (the cached ones retired by the run): every journey ran "name"; one has left "hold".
    medians = step_medians_cached(user=superuser, workflow_id=workflow_id)
    assert medians["name"][1] == 3 and medians["hold"][1] == 1


def test_a_faulted_step_is_recorded_as_faulted(mint_settings, api):
    workflow = api.create_workflow(chain(step("name", "set-name", template="Case"),
                                         step("boom", "fault", message="Broken")))
    journey_id = api.start(workflow["id"])["journeyId"]
    mirror_only(workflow["id"])

    step_history_refresh()

    assert [(visit.step_id, visit.faulted) for visit in StepVisit.objects.filter(journey_id=journey_id)] == [
        ("name", False), ("boom", True)]


def test_a_journey_that_alerts_then_faults_is_faulted_at_the_fault_step_only_once_its_log_is_read(
        mint_settings, api, superuser: User):
    # The shape of the demo's address change: a trigger-alert step raises the alert, the next step faults.
    workflow = api.create_workflow(chain(
        step("name", "set-name", template="Case"), step("noted", "trigger-alert", severity="info", message="Noted"),
        step("flag", "trigger-alert", severity="critical", message="Failed"),
        step("failed", "fault", message="Not verified")))
    journey_id = api.start(workflow["id"])["journeyId"]
    mirror_only(workflow["id"])
    journey = Journey.objects.get(pk=journey_id)
    assert journey.status == JourneyStatus.FAULTED and journey.alert_count == 2
    steps = ["name", "noted", "flag", "failed"]

    def faulted_counts() -> dict[str, int]:
        figures = workflow_step_stats(user=superuser, workflow_id=workflow["id"], step_ids=steps)
        return {step_id: figure.faulted for step_id, figure in figures.items() if figure.faulted}

    def listed_at(step_id: str) -> list[tuple[str, tuple[str, ...]]]:
        filters = JourneyFilters(workflow_id=workflow["id"], status=JourneyStatus.FAULTED, step=step_id)
        page = journey_list(user=superuser, filters=filters, page=1, per_page=25)
        return [(row.journey.id, row.current_steps) for row in page.object_list]

    # Before its log is read it is at no step, and said to be so.
    assert faulted_counts() == {} and step_faulted_unplaced(user=superuser, workflow_id=workflow["id"]) == 1

    step_history_refresh()

    assert faulted_counts() == {"failed": 1}
    assert step_faulted_unplaced(user=superuser, workflow_id=workflow["id"]) == 0
    assert listed_at("failed") == [(journey_id, ("failed",))]
    assert listed_at("noted") == listed_at("flag") == []


def test_a_mint_error_ends_the_runs_reads_and_the_next_run_carries_on(mint_settings, api, sandbox):
    workflow_id, _ = held_journeys(api, 3)
    mirror_only(workflow_id)
    sandbox.add_fault(path=r"^/mint/journeys/[^/]+/log$", method="GET", status=500)

    stopped = step_history_refresh(concurrency=1)

    assert stopped.stopped and stopped.written == 0
    assert not Journey.objects.exclude(history_status="").exists()
    sandbox.clear_faults()
    sandbox.reset_counters()

    resumed = step_history_refresh(concurrency=1)

    assert not resumed.stopped and resumed.written == 3 and sandbox.count("getJourneyLog") == 3


def test_a_journey_mint_no_longer_has_is_not_asked_for_again(mint_settings, sandbox):
    Journey.objects.all().delete()
    make_journey("j-unknown-to-mint", status="active", pending_steps=True)
    sandbox.reset_counters()

    first, second = step_history_refresh(), step_history_refresh()

    assert (first.missing, second.mint_calls) == (1, 0)


@pytest.mark.parametrize("change, pending", [
    ({}, False),
    ({"status": "finished"}, True),
    ({"last_executed_at": BASE_TIME + timedelta(seconds=1)}, True),
    ({"last_executed_at": BASE_TIME - timedelta(seconds=1)}, False),
    ({"gone_at": BASE_TIME}, False),
    ({"status": "idle"}, False),
])
def test_a_journey_is_read_again_only_once_it_executed_or_changed_status(change: dict, pending: bool) -> None:
    make_journey("j-read", status="active", last_executed_at=BASE_TIME, history_executed_at=BASE_TIME,
                 history_status="active")
    make_journey("j-never-read", status="active", last_executed_at=None)

    Journey.objects.filter(pk="j-read").update(**change)

    assert {item.id for item in step_history_pending(limit=10)} == {"j-never-read", *(["j-read"] if pending else [])}


stamps = st.one_of(st.none(), st.integers(min_value=0, max_value=3).map(lambda n: BASE_TIME + timedelta(minutes=n)))
journeys = st.lists(st.fixed_dictionaries({
    "status": st.sampled_from(list(JourneyStatus.values)),
    "gone": st.booleans(),
    "executed": stamps,
    # What the job recorded at its last read: nothing yet, or a status and an execution time.
    "read": st.one_of(st.none(), st.tuples(st.sampled_from(list(JourneyStatus.values)), stamps)),
}), max_size=12)


@settings(max_examples=60, deadline=None)
@given(specs=journeys, limit=st.integers(min_value=1, max_value=5))
def test_a_run_takes_at_most_n_changed_journeys_faulted_then_newest_first_and_none_it_has_read_since(
    specs: list[dict], limit: int
) -> None:
    Journey.objects.all().delete()
    for number, spec in enumerate(specs):
        status, executed = spec["read"] or ("", None)
        make_journey(f"j{number:02d}", status=spec["status"], last_executed_at=spec["executed"],
                     gone_at=BASE_TIME if spec["gone"] else None, history_status=status, history_executed_at=executed)

    def changed(spec: dict) -> bool:
        if spec["gone"] or spec["status"] == JourneyStatus.IDLE:
            return False
        if spec["read"] is None:
            return True
        status, executed = spec["read"]
        return status != spec["status"] or (spec["executed"] is not None
                                            and (executed is None or executed < spec["executed"]))

    stale = [(spec["status"] != JourneyStatus.FAULTED, spec["executed"], f"j{number:02d}")
             for number, spec in enumerate(specs) if changed(spec)]
    # Faulted ones first; then newest first (any never executed before them), ties by id.
    stale.sort(key=lambda row: (row[0], row[1] is not None, -(row[1].timestamp() if row[1] else 0), row[2]))

    taken = step_history_pending(limit=limit)

    assert [item.id for item in taken] == [journey_id for _, _, journey_id in stale[:limit]]
    for item in taken:
        Journey.objects.filter(pk=item.id).update(history_status=item.status, history_executed_at=item.executed_at)
    assert not {item.id for item in taken} & {item.id for item in step_history_pending(limit=len(specs) + 1)}
