"""Fixtures for bulk actions: sandbox workflows that wait for approvals, manual steps and end users, mirrored inside
or outside the personas' scopes, and a helper that runs a job the way its Celery tasks would."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict
from django.utils import timezone

from bulk.models import BulkJob
from bulk.selectors import Selection, bulk_selection
from bulk.services import (
    CHECK_CHUNK,
    bulk_job_check_chunk,
    bulk_job_confirm,
    bulk_job_create,
    bulk_job_run_chunk,
    chunk_size,
)
from journeys.models import Journey
from journeys.services.sync import journey_refresh
from launches.models import Launch, LaunchStatus
from mintportal.mint import MintClient, get_client, models
from tests.mint_parts import link, step
from tests.personas import approval_workflow_create, place_workflow


@pytest.fixture(autouse=True)
def one_thread_in_process(settings) -> None:
    """Chunks run in this process see the test's open transaction only from its own thread; the real workers of
    the worker tests run their chunks with several threads."""
    settings.BULK_THREADS = 1


@pytest.fixture
def mint(mint_settings) -> MintClient:
    return get_client()


@pytest.fixture
def approval_workflow(mint: MintClient) -> Callable[..., str]:
    """A workflow whose journeys wait for approval ``check`` (tests/personas.py), mirrored with ``tags``."""

    def create(*, tags: list[str], name: str = "Approval") -> str:
        return approval_workflow_create(mint, tags=tags, name=name).id

    return create


@pytest.fixture
def suspend_workflow(mint: MintClient) -> Callable[..., str]:
    """A workflow waiting at suspend step ``hold`` (its form derived from the definition), mirrored with ``tags``."""

    def create(*, tags: list[str], name: str = "Manual") -> str:
        workflow = mint.create_workflow(models.WorkflowInput(
            name=f"{name} {uuid.uuid4().hex[:8]}",
            steps=[step("name", "set-name", template="Manual {{ input.case }}"), step("hold", "suspend"),
                   step("end", "finish")],
            connections=[link("name", "hold"), link("hold", "end")],
            input_parameters=[models.WorkflowInputParameter(name="case")],
        ))
        place_workflow(workflow.id, tags=tags, name=workflow.name or "")
        return workflow.id

    return create


@pytest.fixture
def form_workflow(mint: MintClient) -> Callable[..., str]:
    """A workflow whose journeys wait for the end user's form (a journey URL leads somewhere)."""

    def create(*, tags: list[str], name: str = "Form") -> str:
        workflow = mint.create_workflow(models.WorkflowInput(
            name=f"{name} {uuid.uuid4().hex[:8]}",
            steps=[step("name", "set-name", template="Form {{ input.case }}"),
                   step("details", "form", fields=[{"name": "phone", "label": "Phone", "type": "text"}]),
                   step("end", "finish")],
            connections=[link("name", "details"), link("details", "end")],
            input_parameters=[models.WorkflowInputParameter(name="case")],
        ))
        place_workflow(workflow.id, tags=tags, name=workflow.name or "")
        return workflow.id

    return create


@pytest.fixture
def start(mint: MintClient) -> Callable[..., Journey]:
    """Starts a journey and mirrors it from its detail; ``launched_by`` records a portal launch by that user."""

    def run(workflow_id: str, case: str, *, launched_by: User | None = None) -> Journey:
        started = mint.start_journey(workflow_id, input={"case": case})
        if launched_by is not None:
            Launch.objects.create(
                key=f"test-{started.journey_id}", workflow_id=workflow_id, journey_url_ttl=60,
                status=LaunchStatus.STARTED, created_by=launched_by, created_at=timezone.now(),
                journey_id=started.journey_id,
            )
        row = journey_refresh(journey_id=started.journey_id)
        assert row is not None
        return Journey.objects.get(pk=row.id)

    return run


def select(user: User, journeys: list[Journey] | list[str]) -> Selection:
    query = QueryDict(mutable=True)
    query.setlist("journey", [j if isinstance(j, str) else j.id for j in journeys])
    return bulk_selection(user=user, query=query)


def prepare(user: User, action: str, journeys: list, **params) -> BulkJob:
    job = bulk_job_create(user=user, action=action, params=params, selection=select(user, journeys),
                          key=uuid.uuid4().hex)
    run_checks(job)
    job.refresh_from_db()
    return job


def run_checks(job: BulkJob) -> None:
    """What the queued dry-run tasks of a large selection do, in this process."""
    for first in range(0, job.total, CHECK_CHUNK):
        bulk_job_check_chunk(job_id=job.id, first=first, last=first + CHECK_CHUNK - 1)


def run_all(job: BulkJob) -> None:
    """What the queued chunk tasks do, in this process (the worker tests run them in a real worker)."""
    size = chunk_size()
    for first in range(0, job.total, size):
        bulk_job_run_chunk(job_id=job.id, first=first, last=first + size - 1)


def confirm_and_run(user: User, job: BulkJob) -> BulkJob:
    bulk_job_confirm(user=user, job_id=job.id)
    run_all(job)
    job.refresh_from_db()
    return job
