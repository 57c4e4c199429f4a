"""Celery tasks for launches. Each wraps one service; the retry policy lives here.

All run with late acknowledgement (settings), so a worker killed mid-task leaves the message for another
worker; the services' conditional claims make the second run skip what the first one finished.
"""

from __future__ import annotations

from celery import shared_task

from launches.services import (
    LaunchRetryLater,
    bulk_launch_run_chunk,
    launch_requeue_stale,
    launch_start as launch_start_service,
)
from mintportal.celery import retry_countdown


@shared_task(bind=True, max_retries=6, acks_late=True)
def launch_start(self, launch_id: str) -> str:
    """Starts one launch's journey; Mint's passing refusals (429, connection refused) retry with backoff."""
    try:
        launch = launch_start_service(launch_id=launch_id, final_attempt=self.request.retries >= self.max_retries)
    except LaunchRetryLater as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries, retry_after=exc.retry_after))
    return launch.status


@shared_task(bind=True, max_retries=8, acks_late=True)
def bulk_launch_chunk(self, bulk_id: str, first_row: int, last_row: int) -> int:
    """Starts the pending rows of one block of a bulk launch; a passing refusal retries the rest later."""
    try:
        return bulk_launch_run_chunk(
            bulk_id=bulk_id, first_row=first_row, last_row=last_row,
            final_attempt=self.request.retries >= self.max_retries,
        )
    except LaunchRetryLater as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries, retry_after=exc.retry_after))


@shared_task
def launches_requeue_stale() -> int:
    """Beat (every minute): recover launches whose task was lost or whose worker died."""
    return launch_requeue_stale()
