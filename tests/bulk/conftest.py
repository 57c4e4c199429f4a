"""Helpers for bulk actions: a selection, a dry run recorded as a job, and its chunks run the way its Celery tasks
would (the sandbox workflows and journeys they act on come from tests/sandbox_workflows.py)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict

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


@pytest.fixture(autouse=True)
def one_thread_in_process(settings) -> None:
    """Chunks run in this process see the test's open transaction only from its own thread; the real workers of
    the worker tests run their chunks with several threads."""
    settings.BULK_THREADS = 1


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
