"""Celery tasks for the journey mirror and webhooks. Each wraps one service and owns its retry policy.

A task is named after the service it runs, plus ``_task`` (``journey_sync`` → ``journey_sync_task``), and is
registered under its dotted path.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from journeys.services.mirror import journey_data_remark
from journeys.services.step_history import step_history_refresh
from journeys.services.sync import journey_sweep, journey_sync
from journeys.webhooks import webhook_events_prune, webhook_process
from mintportal.mint.errors import MintError
from mintportal.task_retries import retry_or_raise


@shared_task(bind=True, max_retries=3)
def journey_sync_task(self: Task, full: bool = False) -> dict[str, Any]:
    """Beat: mirror journeys executed since the watermark; ``full`` (rarely) walks every journey and marks the
    ones Mint no longer lists."""
    try:
        return journey_sync(full=full).as_dict()
    except MintError as exc:
        retry_or_raise(self, exc)


@shared_task(bind=True, max_retries=3)
def journey_sweep_task(self: Task) -> dict[str, Any]:
    """Beat (every few minutes): catch journeys whose status changed without running (cancelled from outside)."""
    try:
        return journey_sweep().as_dict()
    except MintError as exc:
        retry_or_raise(self, exc)


@shared_task
def step_history_refresh_task() -> dict[str, Any]:
    """Beat (every minute or so): read the execution logs of journeys that changed, a bounded number per run, into
    their step visits. A Mint error ends the run's reads without a retry: the next beat carries on."""
    return step_history_refresh().as_dict()


@shared_task(bind=True, max_retries=5)
def webhook_process_task(self: Task, event_id: str, event_name: str, target_id: str) -> str:
    """Webhook: record the event's id and refresh the journey or workflow it names (journeys/webhooks.py)."""
    try:
        return webhook_process(event_id=event_id, event_name=event_name, target_id=target_id,
                               check_repeat=self.request.retries == 0)
    except MintError as exc:
        retry_or_raise(self, exc)


@shared_task
def webhook_events_prune_task() -> int:
    """Beat (daily): forget event ids too old to be delivered again."""
    return webhook_events_prune()



@shared_task
def journey_data_remark_task(workflow_id: str) -> dict[str, int]:
    """Signal (``privacy.signals.declaration_changed``): re-mark the workflow's stored journey data by its new
    declaration. Idempotent, so a repeated or overlapping run does no harm; no Mint call, so nothing to retry."""
    return journey_data_remark(workflow_id=workflow_id).as_dict()
