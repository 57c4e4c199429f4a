"""Celery tasks for bulk actions; each wraps one service (bulk/services.py). Late acknowledgement (settings) leaves
a killed worker's message for another; the services' conditional claims make a second run skip what is done."""

from __future__ import annotations

import uuid
from datetime import datetime

from celery import shared_task

from bulk.services import bulk_job_check_chunk, bulk_job_recover, bulk_job_requeue_stale, bulk_job_run_chunk


@shared_task(acks_late=True)
def bulk_job_check_chunk_task(job_id: str, first: int, last: int) -> int:
    """Runs the dry run for one block of a large selection's journeys."""
    return bulk_job_check_chunk(job_id=uuid.UUID(job_id), first=first, last=last)


@shared_task(acks_late=True)
def bulk_job_run_chunk_task(job_id: str, first: int, last: int) -> int:
    """Runs one block of a confirmed bulk action's journeys."""
    return bulk_job_run_chunk(job_id=uuid.UUID(job_id), first=first, last=last)


@shared_task
def bulk_job_requeue_stale_task() -> int:
    """Beat (every 20 s, like the launches' requeue): re-checks items of dead workers, requeues lost chunks."""
    return bulk_job_requeue_stale()


@shared_task
def bulk_job_recover_task(claimed_before: str) -> int:
    """Sent by a starting worker on a broker that does not redeliver (mintportal/celery.py)."""
    return bulk_job_recover(claimed_before=datetime.fromisoformat(claimed_before))
