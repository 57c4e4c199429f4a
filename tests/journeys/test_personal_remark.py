"""Re-marking a workflow's stored journey data when its declaration changes, and journeys whose data was removed
(retention, erasure) never getting data again from any mirror path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from journeys.models import Journey, PersonalValue
from journeys.services.mirror import (
    Remarked,
    journey_data_remark,
    journey_input_record,
    journey_mirror_refresh,
    journey_mirror_refresh_many,
    journey_mirror_upsert,
)
from journeys.tasks import journey_data_remark_task
from mintportal.celery import app as celery_app
from mintportal.mint import models
from privacy import kinds
from privacy.masking import hashes_in, is_marker, search_hashes
from privacy.models import PersonalDataDeclaration
from privacy.services import declaration_save
from tests.personas import WF_CONTRACTS, WF_INSIDE

pytestmark = pytest.mark.django_db

NATIONAL_ID = "14038512345"
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def detail(journey_id: str, *, workflow_id: str = WF_INSIDE, nid: str = NATIONAL_ID, **extra: Any
           ) -> models.JourneyDetail:
    return models.JourneyDetail.model_validate({
        "id": journey_id, "workflowId": workflow_id, "version": 1, "status": "active", "name": f"Journey {journey_id}",
        "createdAt": "2026-05-01T08:00:00Z", "lastExecutedAt": NOW.isoformat(), "activeSteps": [], "alerts": [],
        "stepData": {"login": {"nid": nid, "level": "high"}}, **extra,
    })


def declare(workflow_id: str, fields: list[dict[str, str]]) -> None:
    PersonalDataDeclaration.objects.update_or_create(workflow_id=workflow_id, version=1,
                                                     defaults={"fields": fields, "updated_at": timezone.now()})


NID_FIELD = [{"path": "steps.login.nid", "kind": kinds.NATIONAL_ID}]


def writes(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries
            if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def values_of(journey_id: str) -> set[str]:
    return set(PersonalValue.objects.filter(journey_id=journey_id).values_list("hash", flat=True))


def test_remarking_marks_what_is_now_declared_and_a_second_run_writes_nothing() -> None:
    for number in range(7):
        journey_mirror_refresh(journey=detail(f"j{number}", nid=f"1403851234{number}"))
    journey_mirror_refresh(journey=detail("other", workflow_id=WF_CONTRACTS))
    assert Journey.objects.get(pk="j0").data["steps"]["login"]["nid"] == "14038512340"
    declare(WF_INSIDE, NID_FIELD)

    first = journey_data_remark(workflow_id=WF_INSIDE, batch_size=3)  # three batches: 3 + 3 + 1
    with CaptureQueriesContext(connection) as captured:
        second = journey_data_remark(workflow_id=WF_INSIDE, batch_size=3)

    assert first == Remarked(data=7, personal_values=7, stale=0)
    for number in range(7):
        data = Journey.objects.get(pk=f"j{number}").data
        assert is_marker(data["steps"]["login"]["nid"]) and data["steps"]["login"]["level"] == "high"
        assert values_of(f"j{number}") == hashes_in(data) == search_hashes(f"1403851234{number}", [kinds.NATIONAL_ID])
    # Another workflow's journeys are not touched.
    assert Journey.objects.get(pk="other").data["steps"]["login"]["nid"] == NATIONAL_ID
    assert second == Remarked() and writes(captured) == []


def test_an_undeclared_field_marks_the_detail_stale_so_the_sync_reads_it_again() -> None:
    declare(WF_INSIDE, NID_FIELD)
    journey_mirror_refresh(journey=detail("j1"))
    assert Journey.objects.get(pk="j1").detail_seen_at is not None
    declare(WF_INSIDE, [])

    first = journey_data_remark(workflow_id=WF_INSIDE)
    second = journey_data_remark(workflow_id=WF_INSIDE)

    row = Journey.objects.get(pk="j1")
    assert first == Remarked(stale=1) and second == Remarked()
    assert row.detail_seen_at is None and is_marker(row.data["steps"]["login"]["nid"])
    # The read the sync then makes stores the field as Mint has it, and its value row goes.
    journey_mirror_refresh(journey=detail("j1"))
    assert Journey.objects.get(pk="j1").data["steps"]["login"]["nid"] == NATIONAL_ID
    assert values_of("j1") == set()


def remove_data(journey_id: str) -> None:
    """What compliance does when it forgets a journey's data."""
    Journey.objects.filter(pk=journey_id).update(data={}, data_removed_at=timezone.now(), data_removed_by="erasure",
                                                 name="Journey g***")
    PersonalValue.objects.filter(journey_id=journey_id).delete()


def test_a_journey_whose_data_was_removed_never_gets_data_again() -> None:
    declare(WF_INSIDE, NID_FIELD)
    journey_mirror_refresh(journey=detail("gone"))
    assert values_of("gone")
    remove_data("gone")
    summary = models.JourneySummary.model_validate({
        "id": "gone", "workflowId": WF_INSIDE, "workflowName": "Onboarding", "version": 1, "status": "active",
        "name": "Journey gone", "createdAt": "2026-05-01T08:00:00Z", "lastExecutedAt": NOW.isoformat(),
        "pendingSteps": True, "alerts": []})

    journey_mirror_refresh(journey=detail("gone", nid="01010012356", input={"nationalId": "x"}))
    journey_mirror_refresh_many(journeys=[detail("gone"), detail("fresh")])
    assert not journey_input_record(journey_id="gone", input={"customerNumber": "C-1"})
    journey_mirror_upsert(summaries=[summary], seen_at=NOW)
    declare(WF_INSIDE, [*NID_FIELD, {"path": "input.customerNumber", "kind": kinds.DOCUMENT_NUMBER}])
    journey_data_remark(workflow_id=WF_INSIDE)

    gone = Journey.objects.get(pk="gone")
    assert gone.data == {} and values_of("gone") == set()
    assert gone.status == "active" and gone.data_removed_at is not None
    # Its name keeps the words compliance masked: Mint's listing and detail would bring them back.
    assert gone.name == "Journey g***"
    # The same batch's other journey is written as usual.
    assert is_marker(Journey.objects.get(pk="fresh").data["steps"]["login"]["nid"]) and values_of("fresh")


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def test_saving_a_declaration_re_marks_the_workflows_stored_data(
    superuser: User, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    journey_mirror_refresh(journey=detail("j1"))

    with django_capture_on_commit_callbacks(execute=True):
        declaration_save(actor=superuser, workflow_id=WF_INSIDE, version=1, fields=NID_FIELD)

    assert is_marker(Journey.objects.get(pk="j1").data["steps"]["login"]["nid"])
    assert values_of("j1") == search_hashes(NATIONAL_ID, [kinds.NATIONAL_ID])
    assert journey_data_remark_task(WF_INSIDE) == {"data": 0, "personal_values": 0, "stale": 0}
