"""Case file pages: one journey's PDF (an audited attachment, a 404 outside the scope), and batches of the journeys
list's filtered journeys into a zip (refused above 1,000, rendered by the Celery task, shown and downloaded by their
owner only). The batch task runs in this process (``apply``), as a worker would run it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from accounts.models import AuditEvent
from compliance.casefile_jobs import MAX_JOURNEYS
from compliance.casefile_models import CaseFileJob, CaseFileJobState
from compliance.tasks import casefile_job_run_task, casefile_jobs_prune_task
from journeys.models import Journey
from journeys.services.mirror import journey_mirror_changed
from mintportal.mint import MintClient
from mintportal.urls import urlpatterns as portal_urlpatterns
from tests.compliance.test_casefile_record import (
    FOOTER_DIGEST,
    clear_values_in,
    onboarding_journey,
    onboarding_workflow,
    pdf_text,
)
from tests.personas import WF_INSIDE, place_workflow

# Until mintportal/urls.py includes compliance/casefile_urls.py, these tests route it themselves.
try:
    reverse("casefiles:batch")
    urlpatterns = portal_urlpatterns
except NoReverseMatch:
    urlpatterns = [*portal_urlpatterns, path("compliance/", include("compliance.casefile_urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(scope="session", autouse=True)
def casefile_job_table(django_db_setup, django_db_blocker) -> None:
    """The job table, while its migration is still to be made (a no-op once the migration made it)."""
    with django_db_blocker.unblock():
        if CaseFileJob._meta.db_table not in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.create_model(CaseFileJob)


@pytest.fixture(autouse=True)
def run_dir(settings, tmp_path: Path) -> Path:
    settings.RUN_DIR = tmp_path
    return tmp_path


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def zip_of(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def manifest_of(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))


def job_of(owner: User, journey_ids: list[str], **fields) -> CaseFileJob:
    return CaseFileJob.objects.create(owner=owner, journey_ids=journey_ids, total=len(journey_ids),
                                      created_at=timezone.now(), **fields)


# --- one journey ---------------------------------------------------------------------------------------------


def test_the_pdf_is_an_attachment_audited_without_names_and_its_footer_digest_is_audited(
        client: Client, mint: MintClient, approver: User, case_handler: User) -> None:
    workflow_id = onboarding_workflow(mint, tags=["onboarding"])
    journey = onboarding_journey(mint, workflow_id, approver=approver, case_handler=case_handler)
    response = signed_in(client, case_handler).get(f"/compliance/journeys/{journey.id}/case-file.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="case-file-{journey.id}.pdf"'
    text = pdf_text(response.content)
    assert clear_values_in(text) == []
    event = AuditEvent.objects.get(action="journey.case_file")
    assert (event.actor_username, event.journey_id, event.workflow_id, event.summary) == (
        case_handler.get_username(), journey.id, workflow_id, "Case file generated")
    assert set(FOOTER_DIGEST.findall(text)) == {event.detail["record_sha256"]}
    assert clear_values_in(f"{event.summary} {event.detail}") == []


def test_a_journey_outside_the_scope_is_a_404_and_nothing_is_audited(
        client: Client, mint: MintClient, approver: User, case_handler: User, outsider: User) -> None:
    workflow_id = onboarding_workflow(mint, tags=["batch"])
    started = mint.start_journey(workflow_id, input={"customerNumber": "C-9", "product": "Savings account"})
    before = AuditEvent.objects.count()
    for user in (case_handler, outsider):
        response = signed_in(client, user).get(f"/compliance/journeys/{started.journey_id}/case-file.pdf")
        assert response.status_code == 404
        assert b"%PDF" not in response.content
    assert signed_in(client, case_handler).get("/compliance/journeys/nothing-here/case-file.pdf").status_code == 404
    assert AuditEvent.objects.count() == before


# --- batches -------------------------------------------------------------------------------------------------


@pytest.fixture
def three_journeys(suspend_workflow: Callable[..., str], start: Callable[..., Journey]) -> tuple[str, list[Journey]]:
    workflow_id = suspend_workflow(tags=["onboarding"])
    return workflow_id, [start(workflow_id, f"case-{index}") for index in range(3)]


def test_a_batch_of_three_journeys_makes_a_zip_of_three_pdfs_and_a_manifest(
        client: Client, case_handler: User, three_journeys: tuple[str, list[Journey]],
        django_capture_on_commit_callbacks) -> None:
    workflow_id, journeys = three_journeys
    signed_in(client, case_handler)
    # The browser's zone: every time in the case files is written in it, whenever the worker renders them.
    client.cookies["tz"] = "Europe/Oslo"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(f"/compliance/case-files?workflow={workflow_id}&page=2")
    assert response.status_code == 302
    job = CaseFileJob.objects.get()
    assert response["Location"] == f"/compliance/case-files/{job.id}"
    assert (job.owner, job.total, job.state, job.time_zone, sorted(job.journey_ids)) == (
        case_handler, 3, CaseFileJobState.QUEUED, "Europe/Oslo", sorted(j.id for j in journeys))
    assert len(queued) == 1, "the run is queued once the job is committed"
    event = AuditEvent.objects.get(action="case_file.batch")
    assert (event.actor_username, event.detail["count"]) == (case_handler.get_username(), 3)

    casefile_job_run_task.apply(args=(str(job.id),))

    job.refresh_from_db()
    assert (job.state, job.done, job.failed) == (CaseFileJobState.DONE, 3, 0)
    page = client.get(f"/compliance/case-files/{job.id}")
    assert page.status_code == 200
    assert b'role="status"' in page.content
    assert b"hx-trigger" not in page.content, "a finished job's page stops polling"
    assert f"/compliance/case-files/{job.id}/download".encode() in page.content
    download = client.get(f"/compliance/case-files/{job.id}/download")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="case-files-{job.id}.zip"'
    archive = zip_of(download)
    assert sorted(archive.namelist()) == sorted([*(f"case-file-{j.id}.pdf" for j in journeys), "manifest.csv"])
    manifest = manifest_of(archive)
    assert sorted(row["journey_id"] for row in manifest) == sorted(j.id for j in journeys)
    for row in manifest:
        pdf = archive.read(row["file_name"])
        assert row["error"] == ""
        assert row["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
        text = pdf_text(pdf)
        assert set(FOOTER_DIGEST.findall(text)) == {row["record_sha256"]}
        assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d CET by handler", text)


def test_a_journey_that_cannot_be_rendered_is_listed_in_the_manifest_with_the_reason(
        client: Client, case_handler: User, suspend_workflow: Callable[..., str],
        start: Callable[..., Journey]) -> None:
    kept, moved = suspend_workflow(tags=["onboarding"]), suspend_workflow(tags=["onboarding"])
    visible = [start(kept, "a"), start(kept, "b")]
    gone = start(moved, "c")
    response = signed_in(client, case_handler).post("/compliance/case-files")
    assert response.status_code == 302
    job = CaseFileJob.objects.get()
    assert job.total == 3
    # The workflow leaves the owner's scope before the job runs.
    place_workflow(moved, tags=["batch"])
    casefile_job_run_task.apply(args=(str(job.id),))
    job.refresh_from_db()
    assert (job.state, job.done, job.failed) == (CaseFileJobState.DONE, 2, 1)
    archive = zip_of(client.get(f"/compliance/case-files/{job.id}/download"))
    assert sorted(archive.namelist()) == sorted([*(f"case-file-{j.id}.pdf" for j in visible), "manifest.csv"])
    failed = [row for row in manifest_of(archive) if row["error"]]
    assert [(row["journey_id"], row["file_name"], row["record_sha256"]) for row in failed] == [(gone.id, "", "")]
    assert "Not visible" in failed[0]["error"]
    assert "could not be made" in client.get(f"/compliance/case-files/{job.id}").content.decode()


def _mirror_rows(count: int) -> None:
    now = timezone.now()
    Journey.objects.bulk_create([
        Journey(id=f"cf-{index:05d}", workflow_id=WF_INSIDE, workflow_name="Onboarding", version=1,
                status="finished", name=f"Journey {index}", created_at=now, last_executed_at=now, seen_at=now)
        for index in range(count)])
    journey_mirror_changed()


def test_more_than_1000_journeys_are_refused_before_anything_starts(client: Client, case_handler: User,
                                                                    django_capture_on_commit_callbacks) -> None:
    _mirror_rows(MAX_JOURNEYS + 1)
    signed_in(client, case_handler)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(f"/compliance/case-files?workflow={WF_INSIDE}")
    assert response.status_code == 400
    assert "More than 1,000 journeys match these filters" in response.content.decode()
    assert (CaseFileJob.objects.count(), len(queued)) == (0, 0)
    assert not AuditEvent.objects.filter(action="case_file.batch").exists()
    # Exactly 1,000 is allowed.
    Journey.objects.filter(pk="cf-01000").delete()
    journey_mirror_changed()
    response = client.post(f"/compliance/case-files?workflow={WF_INSIDE}")
    assert response.status_code == 302
    assert CaseFileJob.objects.get().total == MAX_JOURNEYS


def test_invalid_filters_and_an_empty_selection_are_refused(client: Client, case_handler: User) -> None:
    signed_in(client, case_handler)
    response = client.post("/compliance/case-files?after=yesterday")
    assert response.status_code == 400
    assert "Invalid filters" in response.content.decode()
    response = client.post("/compliance/case-files?q=nothing-matches-this")
    assert response.status_code == 400
    assert "No journeys match" in response.content.decode()
    assert client.get("/compliance/case-files").status_code == 405
    assert not CaseFileJob.objects.exists()


def test_someone_elses_job_is_a_404(client: Client, case_handler: User, approver: User, admin: User) -> None:
    job = job_of(case_handler, ["j-1"], state=CaseFileJobState.DONE, done=1)
    for other in (approver, admin):
        signed_in(client, other)
        assert client.get(f"/compliance/case-files/{job.id}").status_code == 404
        assert client.get(f"/compliance/case-files/{job.id}/download").status_code == 404
    assert signed_in(client, case_handler).get(f"/compliance/case-files/{uuid.uuid4()}").status_code == 404


def test_a_running_jobs_page_polls_every_two_seconds_and_answers_204_while_nothing_moved(
        client: Client, case_handler: User) -> None:
    job = job_of(case_handler, ["j-1", "j-2"], state=CaseFileJobState.RUNNING, done=1)
    signed_in(client, case_handler)
    page = client.get(f"/compliance/case-files/{job.id}").content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert 'role="status" aria-live="polite"' in page
    assert "1</strong> of 2 made" in page
    htmx = {"HTTP_HX_REQUEST": "true"}
    assert client.get(f"/compliance/case-files/{job.id}?seen=running.1.0", **htmx).status_code == 204
    CaseFileJob.objects.filter(pk=job.id).update(done=2, state=CaseFileJobState.DONE)
    region = client.get(f"/compliance/case-files/{job.id}?seen=running.1.0", **htmx)
    assert region.status_code == 200
    assert b'id="casefile-progress"' in region.content
    assert b"hx-trigger" not in region.content
    # The download waits for the zip.
    running = job_of(case_handler, ["j-3"], state=CaseFileJobState.RUNNING)
    assert client.get(f"/compliance/case-files/{running.id}/download").status_code == 400


def test_finished_jobs_and_their_zips_are_pruned_after_a_day(case_handler: User, run_dir: Path, clock) -> None:
    zips = run_dir / "casefiles"
    zips.mkdir()
    old, fresh = zips / "old.zip", zips / "fresh.zip"
    old.write_bytes(b"zip")
    fresh.write_bytes(b"zip")
    job_of(case_handler, ["j-1"], state=CaseFileJobState.DONE, zip_path=str(old), finished_at=timezone.now())
    clock.advance(3600)
    kept = job_of(case_handler, ["j-2"], state=CaseFileJobState.DONE, zip_path=str(fresh), finished_at=timezone.now())
    running = job_of(case_handler, ["j-3"], state=CaseFileJobState.RUNNING)
    clock.advance(86400 - 1800)
    assert casefile_jobs_prune_task.apply().get() == 1
    assert set(CaseFileJob.objects.values_list("pk", flat=True)) == {kept.pk, running.pk}
    assert (old.exists(), fresh.exists()) == (False, True)
