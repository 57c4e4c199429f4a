"""A bulk action touches at most 10,000 journeys: a larger selection is refused (400, in words) before anything is
recorded or started; bad selections and filters get a 400 with a message, never a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from bulk.models import BulkItem, BulkJob, JobStatus, Verdict
from bulk.selectors import MAX_JOURNEYS
from bulk.services import INLINE_DRY_RUN, bulk_job_create
from journeys.models import Journey
from tests.bulk.conftest import run_checks, select
from tests.personas import WF_INSIDE
from tests.redis_server import filesystem_broker_options, publishing_to

pytestmark = pytest.mark.django_db


def mirror_rows(count: int, *, workflow_id: str = WF_INSIDE) -> None:
    now = timezone.now()
    Journey.objects.bulk_create(
        [Journey(id=f"lim-{index:06d}", workflow_id=workflow_id, workflow_name="Onboarding", version=1,
                 status="finished", name=f"Limit {index}", last_executed_at=now, created_at=now, seen_at=now)
         for index in range(count)],
        batch_size=2000,
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("rows", "status"), [(MAX_JOURNEYS, 200), (MAX_JOURNEYS + 1, 400)])
def test_all_matching_is_allowed_up_to_ten_thousand_journeys_and_refused_beyond(case_handler, rows, status):
    mirror_rows(rows)

    response = signed_in(case_handler).get(reverse("bulk:new"), {"all": "1", "workflow": WF_INSIDE})

    assert response.status_code == status
    body = response.content.decode()
    if status == 200:
        assert "Act on 10,000 journeys" in body or "Act on 10000 journeys" in body
    else:
        assert "at most 10,000 journeys" in body and "more than 10,000" in body
    assert not BulkJob.objects.exists() and not AuditEvent.objects.filter(action__startswith="bulk.").exists()


def test_a_dry_run_over_ten_thousand_posted_journeys_is_refused_before_anything_is_recorded(case_handler):
    mirror_rows(MAX_JOURNEYS + 1)

    response = signed_in(case_handler).post(reverse("bulk:new"), {
        "all": "1", "workflow": WF_INSIDE, "key": "k1", "action": "note", "content": "hello"})

    assert response.status_code == 400
    assert "at most 10,000 journeys" in response.content.decode()
    assert not BulkJob.objects.exists()


def test_an_invalid_filter_is_refused_rather_than_dropped(case_handler):
    mirror_rows(3)

    response = signed_in(case_handler).get(reverse("bulk:new"), {"all": "1", "status": "bogus"})

    assert response.status_code == 400
    assert "Invalid filters: status" in response.content.decode()


def test_an_empty_selection_and_an_overlong_journey_id_are_refused_in_words(case_handler):
    client = signed_in(case_handler)

    empty = client.get(reverse("bulk:new"))
    overlong = client.get(reverse("bulk:new"), {"journey": "x" * 101})

    assert empty.status_code == 400 and "Select at least one journey" in empty.content.decode()
    assert overlong.status_code == 400 and "at most 100 characters" in overlong.content.decode()


def test_all_matching_follows_the_lists_filters_and_scope(case_handler):
    mirror_rows(4)
    mirror_rows_outside = Journey(id="lim-outside", workflow_id="wf-batch", version=1, status="finished",
                                  name="Outside", seen_at=timezone.now())
    mirror_rows_outside.save()

    response = signed_in(case_handler).get(reverse("bulk:new"), {"all": "1", "q": "Limit 3"})

    assert response.status_code == 200
    assert 'name="journey"' not in response.content.decode()
    assert "Act on 1 journey" in response.content.decode()


def test_a_large_selection_is_checked_by_chunk_tasks_and_is_a_draft_once_every_journey_is_checked(
    case_handler, tmp_path, django_capture_on_commit_callbacks
):
    mirror_rows(INLINE_DRY_RUN + 1)
    ids = list(Journey.objects.order_by("id").values_list("id", flat=True))
    options = filesystem_broker_options(tmp_path / "broker")
    with publishing_to("filesystem://", options), django_capture_on_commit_callbacks(execute=True):
        job = bulk_job_create(user=case_handler, action="note", params={"content": "x"},
                              selection=select(case_handler, ids), key="large")
    client = signed_in(case_handler)
    checking = client.get(reverse("bulk:job", args=[job.id])).content.decode()

    assert job.status == JobStatus.CHECKING and "Dry run: checking…" in checking
    # One dry-run task per block of 250 journeys.
    assert len(list(Path(str(options["data_folder_in"])).iterdir())) == 3
    run_checks(job)
    job.refresh_from_db()
    assert job.status == JobStatus.DRAFT and job.will_act == INLINE_DRY_RUN + 1
    assert not BulkItem.objects.filter(job=job, verdict=Verdict.CHECKING).exists()
    assert "Add the note to 501 journeys" in client.get(reverse("bulk:job", args=[job.id])).content.decode()
