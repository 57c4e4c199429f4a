from __future__ import annotations

import uuid
from typing import Any

from celery import shared_task

from compliance.casefile_jobs import casefile_job_run, casefile_jobs_prune
from compliance.services.retention import retention_apply


@shared_task
def retention_apply_task() -> dict[str, Any]:
    # No retry: a failed run leaves the due journeys due, and the next beat tick forgets them.
    run = retention_apply()
    return {"removed": run.total, "batches": run.batches, "complete": run.complete}


@shared_task(acks_late=True)
def casefile_job_run_task(job_id: str) -> str:
    """Renders a batch's case files into its zip. No retry: a run that fails part-way lists the journeys it could
    not render in the manifest, and a worker killed mid-run leaves the message for another (late acknowledgement),
    which starts the zip over."""
    job = casefile_job_run(job_id=uuid.UUID(job_id))
    return job.state if job is not None else "missing"


@shared_task
def casefile_jobs_prune_task() -> int:
    """Beat (hourly): deletes batches, and their zips, that finished more than a day ago."""
    return casefile_jobs_prune()
