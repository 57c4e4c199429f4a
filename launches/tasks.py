"""Celery tasks for launches. Each wraps one service; the retry limits live here (a single launch's wait is
chosen by its service, which records when the retry falls due).

A task is named after the service it runs, plus ``_task`` (``launch_start`` → ``launch_start_task``), and is
registered under its dotted path.

All run with late acknowledgement (settings), so a worker killed mid-task leaves the message for another
worker; the services' conditional claims make the second run skip what the first one finished. A message
lost anyway (Redis restarted without it, or the filesystem broker, which deletes what a worker fetched) is
made good by ``launch_requeue_stale_task`` and, on the filesystem broker, ``launch_recover_task`` at worker
start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from celery import Task, shared_task

from launches.services import (
    LaunchRetryLater,
    bulk_launch_run_chunk,
    launch_recover,
    launch_requeue_stale,
    launch_start,
)

# How many times a launch, and a block of a bulk launch, is retried after Mint's passing refusals.
LAUNCH_RETRIES: Final = 6
CHUNK_RETRIES: Final = 8


@shared_task(bind=True, max_retries=LAUNCH_RETRIES, acks_late=True)
def launch_start_task(self: Task, launch_id: str) -> str:
    """Starts one launch's journey; Mint's passing refusals (429, connection refused) retry with backoff."""
    try:
        launch = launch_start(launch_id=launch_id, final_attempt=self.request.retries >= LAUNCH_RETRIES)
    except LaunchRetryLater as exc:
        # The service chose the wait (backoff, never below Retry-After) and recorded when the retry is due.
        raise self.retry(exc=exc, countdown=exc.countdown) from exc
    return launch.status


@shared_task(bind=True, max_retries=CHUNK_RETRIES, acks_late=True)
def bulk_launch_run_chunk_task(self: Task, bulk_id: str, first_row: int, last_row: int) -> int:
    """Starts the pending rows of one block of a bulk launch; a passing refusal retries the rest later."""
    try:
        return bulk_launch_run_chunk(
            bulk_id=bulk_id, first_row=first_row, last_row=last_row,
            final_attempt=self.request.retries >= CHUNK_RETRIES,
        )
    except LaunchRetryLater as exc:
        # The refused row recorded when this retry is due (its retry_at); the requeue relies on it.
        raise self.retry(exc=exc, countdown=exc.countdown) from exc


@shared_task
def launch_requeue_stale_task() -> int:
    """Beat (every 20 s): recover launches whose task was lost or whose worker died."""
    return launch_requeue_stale()


@shared_task
def launch_recover_task(claimed_before: str) -> int:
    """Sent by a starting worker on a broker that does not redeliver (mintportal/celery.py)."""
    return launch_recover(claimed_before=datetime.fromisoformat(claimed_before))

