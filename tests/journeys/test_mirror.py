"""The journey mirror's writes: bulk upserts from the listing and refreshes from a journey's detail.

The wire models are built from Mint's JSON shapes (camelCase), exactly as the client parses them. Runs on the
suite's database: SQLite by default, PostgreSQL (the fast ``unnest`` path) when DATABASE_URL points there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import WorkflowRecord
from journeys.models import Journey, WaitingStep
from journeys.services.mirror import journey_input_record, journey_mirror_refresh, journey_mirror_upsert
from mintportal.mint import models

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
APPROVAL_WAITING = [{"stepId": "approve", "stepType": "require-approval"}]


def summary(journey_id: str, *, status: str = "active", pending: bool = True, alerts: list | None = None,
            executed: datetime = NOW, **extra) -> models.JourneySummary:
    return models.JourneySummary.model_validate({
        "id": journey_id, "workflowId": "wf-1", "workflowName": "Onboarding", "version": 2, "status": status,
        "name": f"Journey {journey_id}", "createdAt": "2026-05-01T08:00:00Z",
        "lastExecutedAt": executed.isoformat(), "pendingSteps": pending, "alerts": alerts or [], **extra,
    })


def detail(journey_id: str, *, status: str = "active", active_steps: list | None = None,
           step_data: dict | None = None) -> models.JourneyDetail:
    return models.JourneyDetail.model_validate({
        "id": journey_id, "workflowId": "wf-1", "version": 2, "status": status, "name": f"Journey {journey_id}",
        "createdAt": "2026-05-01T08:00:00Z", "lastExecutedAt": NOW.isoformat(),
        "activeSteps": APPROVAL_WAITING if active_steps is None else active_steps,
        "alerts": [], "stepData": {"login": {"name": "Kari"}} if step_data is None else step_data,
    })


def waiting(journey_id: str) -> list[tuple[str, str]]:
    return list(WaitingStep.objects.filter(journey_id=journey_id).values_list("step_id", "step_type"))


def test_an_upsert_writes_every_listing_field_and_derived_values():
    alerts = [{"stepId": "a", "severity": "info", "message": "FYI"},
              {"stepId": "b", "severity": "critical", "message": "Registry down", "timestamp": "2026-05-04T11:00:00Z"}]

    written = journey_mirror_upsert(summaries=[summary("j1", alerts=alerts)], seen_at=NOW)

    row = Journey.objects.get(pk="j1")
    assert written == 1
    assert (row.workflow_id, row.workflow_name, row.version, row.status, row.name) == (
        "wf-1", "Onboarding", 2, "active", "Journey j1")
    assert row.alert_count == 2 and row.alert_level == 3
    assert row.alerts[1] == {"stepId": "b", "severity": "critical", "message": "Registry down",
                             "timestamp": "2026-05-04T11:00:00Z"}
    assert row.waiting_since == NOW and row.pending_steps
    assert row.seen_at == NOW and row.gone_at is None


def test_a_journey_that_stops_waiting_loses_its_waiting_time_and_waiting_steps():
    journey_mirror_refresh(journey=detail("j1"))

    journey_mirror_upsert(summaries=[summary("j1", status="finished", pending=False, finishedAt=NOW.isoformat())],
                          seen_at=NOW)

    row = Journey.objects.get(pk="j1")
    assert row.status == "finished" and row.waiting_since is None
    assert waiting("j1") == []
    assert row.detail_seen_at is not None


def test_a_listing_upsert_keeps_the_waiting_steps_only_a_detail_knows():
    journey_mirror_refresh(journey=detail("j1"))

    journey_mirror_upsert(summaries=[summary("j1", executed=NOW + timedelta(minutes=1))], seen_at=NOW)

    assert waiting("j1") == [("approve", "require-approval")]


def test_a_refresh_replaces_the_waiting_steps_in_mints_order():
    journey_mirror_refresh(journey=detail("j1"))

    journey_mirror_refresh(journey=detail("j1", active_steps=[{"stepId": "z-hold", "stepType": "suspend"},
                                                               {"stepId": "a-check", "stepType": "require-approval"}]))

    assert waiting("j1") == [("z-hold", "suspend"), ("a-check", "require-approval")]
    assert [step.step_id for step in Journey.objects.get(pk="j1").waiting_steps.all()] == ["z-hold", "a-check"]


def test_an_unknown_alert_severity_still_counts_as_an_alert():
    journey_mirror_upsert(summaries=[summary("j1", alerts=[{"stepId": "a", "severity": "Urgent", "message": "?"}]),
                                     summary("j2", alerts=[{"stepId": "a", "severity": "WARNING", "message": "!"}])],
                          seen_at=NOW)

    assert Journey.objects.get(pk="j1").alert_level == 1
    assert Journey.objects.get(pk="j2").alert_level == 2


def test_a_batch_that_repeats_a_journey_keeps_the_later_copy():
    first = summary("j1", status="active")
    later = summary("j1", status="finished", pending=False, executed=NOW + timedelta(seconds=5))

    written = journey_mirror_upsert(summaries=[first, summary("j2"), later], seen_at=NOW)

    assert written == 2
    assert Journey.objects.get(pk="j1").status == "finished"


def test_an_upsert_streams_many_batches_from_a_generator():
    summaries = (summary(f"j{index:05d}") for index in range(1234))

    assert journey_mirror_upsert(summaries=summaries, seen_at=NOW) == 1234
    assert Journey.objects.count() == 1234


def test_a_journey_that_reappears_is_no_longer_gone():
    journey_mirror_upsert(summaries=[summary("j1")], seen_at=NOW)
    Journey.objects.filter(pk="j1").update(gone_at=NOW)

    journey_mirror_upsert(summaries=[summary("j1")], seen_at=NOW)

    assert Journey.objects.get(pk="j1").gone_at is None


def test_a_refresh_takes_the_workflow_name_from_the_workflow_mirror_when_the_row_is_new():
    WorkflowRecord.objects.create(id="wf-1", name="Onboarding (mirrored)", seen_at=timezone.now())

    row = journey_mirror_refresh(journey=detail("j-new"))

    assert row.workflow_name == "Onboarding (mirrored)"
    assert waiting("j-new") == [("approve", "require-approval")]
    assert Journey.objects.get(pk="j-new").pending_steps


def test_a_refresh_keeps_the_name_the_row_already_has_unless_told():
    journey_mirror_upsert(summaries=[summary("j1")], seen_at=NOW)

    journey_mirror_refresh(journey=detail("j1", status="finished", active_steps=[]))
    assert Journey.objects.get(pk="j1").workflow_name == "Onboarding"
    journey_mirror_refresh(journey=detail("j1"), workflow_name="Renamed")
    assert Journey.objects.get(pk="j1").workflow_name == "Renamed"


# --- retiring cached lists ----------------------------------------------------------------------------


def mirror_generation() -> str:
    from journeys.selectors import MIRROR_GENERATION
    from mintportal.cache import generation

    return generation(MIRROR_GENERATION)


def test_an_upsert_that_changes_a_shown_field_retires_cached_lists():
    journey_mirror_upsert(summaries=[summary("j1")], seen_at=NOW)
    before = mirror_generation()

    journey_mirror_upsert(summaries=[summary("j1", status="finished", pending=False)], seen_at=NOW)

    assert mirror_generation() != before


def test_an_upsert_that_changes_nothing_shown_keeps_cached_lists_on_postgresql():
    journey_mirror_upsert(summaries=[summary("j1"), summary("j2")], seen_at=NOW)
    before = mirror_generation()

    # The incremental sync re-reads the journeys of its overlap window on every run: only seen_at moves.
    journey_mirror_upsert(summaries=[summary("j1"), summary("j2")], seen_at=NOW + timedelta(minutes=1))

    if connection.vendor == "postgresql":
        assert mirror_generation() == before
    else:
        # The portable upsert cannot tell, so it retires them: stale lists are worse than a re-render.
        assert mirror_generation() != before
    assert Journey.objects.get(pk="j1").seen_at == NOW + timedelta(minutes=1)


def test_a_refresh_retires_cached_lists_only_when_the_journey_changed():
    journey_mirror_refresh(journey=detail("j1"))
    before = mirror_generation()

    journey_mirror_refresh(journey=detail("j1"))
    assert mirror_generation() == before

    journey_mirror_refresh(journey=detail("j1", status="finished", active_steps=[]))
    assert mirror_generation() != before


def test_a_refresh_keeps_the_step_data_for_the_data_filters_and_the_input_it_was_given():
    journey_mirror_refresh(journey=detail("j1"))
    assert Journey.objects.get(pk="j1").data == {"steps": {"login": {"name": "Kari"}}}

    assert journey_input_record(journey_id="j1", input={"customerNumber": "C-100508"})
    journey_mirror_refresh(journey=detail("j1", step_data={"login": {"name": "Kari"}, "risk": {"score": 90}}))

    assert Journey.objects.get(pk="j1").data == {
        "input": {"customerNumber": "C-100508"}, "steps": {"login": {"name": "Kari"}, "risk": {"score": 90}}}


def test_an_input_for_a_journey_the_mirror_does_not_hold_is_not_recorded():
    assert not journey_input_record(journey_id="nowhere", input={"customerNumber": "C-1"})


def test_a_listing_upsert_keeps_the_data_a_detail_gave():
    journey_mirror_refresh(journey=detail("j1"))

    journey_mirror_upsert(summaries=[summary("j1", status="finished", pending=False)], seen_at=NOW)

    assert Journey.objects.get(pk="j1").data == {"steps": {"login": {"name": "Kari"}}}


def test_a_refresh_whose_step_data_changed_retires_cached_lists():
    journey_mirror_refresh(journey=detail("j1"))
    before = mirror_generation()

    journey_mirror_refresh(journey=detail("j1", step_data={"login": {"name": "Ola"}}))

    assert mirror_generation() != before


def test_a_batch_refresh_writes_each_journey_as_a_single_refresh_would_in_a_few_statements():
    from django.test.utils import CaptureQueriesContext

    from journeys.services.mirror import journey_mirror_refresh_many

    journey_mirror_refresh(journey=detail("j0", step_data={"login": {"name": "Old"}}))
    journey_input_record(journey_id="j0", input={"customerNumber": "C-0"})
    details = [detail(f"j{number}", step_data={"login": {"name": f"N{number}"}},
                      active_steps=[] if number % 2 else None, status="finished" if number % 2 else "active")
               for number in range(20)]

    with CaptureQueriesContext(connection) as captured:
        rows = journey_mirror_refresh_many(journeys=details)

    assert [row.id for row in rows] == [f"j{number}" for number in range(20)]
    assert Journey.objects.get(pk="j0").data == {"input": {"customerNumber": "C-0"}, "steps": {"login": {"name": "N0"}}}
    assert Journey.objects.get(pk="j3").data == {"steps": {"login": {"name": "N3"}}}
    assert waiting("j2") == [("approve", "require-approval")] and waiting("j3") == []
    # Reads, the upsert, the waiting steps and one data update for the journey that existed: not five per journey.
    assert len(captured.captured_queries) <= 12
