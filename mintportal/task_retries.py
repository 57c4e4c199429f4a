"""The retry policy of the portal's Celery tasks: exponential waits with jitter, and retry only what may succeed."""

from __future__ import annotations

import random
from typing import NoReturn

from celery import Task

# Retry waits grow 2, 4, 8 ... seconds up to this cap, with jitter so that a burst does not retry in step.
MAX_RETRY_COUNTDOWN = 300.0


def retry_countdown(retries: int, *, retry_after: float | None = None) -> float:
    """Seconds before retry number ``retries + 1``: exponential with jitter, never below ``retry_after``."""
    backoff = min(MAX_RETRY_COUNTDOWN, 2.0 ** (retries + 1)) * random.uniform(0.5, 1.0)
    return max(backoff, retry_after or 0.0)


def retry_or_raise(task: Task, exc: Exception) -> NoReturn:
    """The task policy for a ``MintError``: retry it later when it is retryable, else let it fail.

    Raises ``celery.exceptions.Retry`` (which Celery treats as "scheduled again") while retries remain,
    and the original error otherwise.
    """
    if getattr(exc, "retryable", False) and (task.max_retries is None or task.request.retries < task.max_retries):
        raise task.retry(exc=exc, countdown=retry_countdown(task.request.retries,
                                                            retry_after=getattr(exc, "retry_after", None)))
    raise exc
