"""Celery tasks for workflows. Each wraps one selector or service and owns its retry policy.

A task is named after the service it runs, plus ``_task``, and is registered under its dotted path.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from mintportal.mint.budget import time_budget
from mintportal.mint.errors import MintError
from mintportal.outage import is_outage, record_outage
from mintportal.task_retries import retry_or_raise
from workflows.selectors import workflow_cache_refill
from workflows.sync import workflow_sync

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3)
def workflow_sync_task(self: Task) -> int:
    """Beat: mirror every workflow's name and tags (tag scopes resolve against them)."""
    try:
        return workflow_sync().upserted
    except MintError as exc:
        retry_or_raise(self, exc)


@shared_task
def workflow_cache_refill_task(what: str, params: dict[str, Any]) -> None:
    """A page served a stale cached workflow entry: read it from Mint again.

    Never retried, and like a page given one attempt within ``MINT_WEB_TIMEOUT``: the stale entry stays in place
    and the next page that reads it queues another refresh, so waiting on a busy Mint here would only keep the
    worker from launches. An outage of Mint is noted so that pages show the banner while they serve what the
    portal last knew.
    """
    try:
        with time_budget(settings.MINT_WEB_TIMEOUT):
            workflow_cache_refill(what=what, params=params)
    except MintError as exc:
        if is_outage(exc):
            record_outage(exc)
        logger.info("workflow cache refresh of %s failed: %s", what, type(exc).__name__)
