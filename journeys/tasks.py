"""Celery tasks for the journey and workflow mirrors. Each wraps one service and owns its retry policy."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from journeys.services.sync import journey_refresh as journey_refresh_service
from journeys.services.sync import journey_sweep, journey_sync, workflow_sync
from journeys.webhooks import webhook_events_prune as webhook_events_prune_service
from journeys.webhooks import webhook_process as webhook_process_service
from mintportal.celery import retry_or_raise
from mintportal.mint.errors import MintError


@shared_task(bind=True, max_retries=3)
def journeys_sync_incremental(self) -> dict[str, Any]:
    """Beat: mirror journeys executed since the watermark (skipped while another sync runs)."""
    try:
        return journey_sync().as_dict()
    except MintError as exc:
        retry_or_raise(self, exc)
        raise


@shared_task(bind=True, max_retries=3)
def journeys_sync_full(self) -> dict[str, Any]:
    """Beat (rarely): walk every journey and mark the ones Mint no longer lists."""
    try:
        return journey_sync(full=True).as_dict()
    except MintError as exc:
        retry_or_raise(self, exc)
        raise


@shared_task(bind=True, max_retries=3)
def journeys_sweep(self) -> dict[str, Any]:
    """Beat (every few minutes): catch journeys whose status changed without running (cancelled from outside)."""
    try:
        return journey_sweep().as_dict()
    except MintError as exc:
        retry_or_raise(self, exc)
        raise


@shared_task(bind=True, max_retries=3)
def workflows_sync(self) -> int:
    """Beat: mirror every workflow's name and tags (tag scopes resolve against them)."""
    try:
        return workflow_sync().upserted
    except MintError as exc:
        retry_or_raise(self, exc)
        raise


@shared_task(bind=True, max_retries=5)
def workflow_refresh(self, workflow_id: str) -> None:
    """A workflow was created or saved in Mint (webhook deliveries queued before webhook_process)."""
    try:
        workflow_sync(workflow_id=workflow_id)
    except MintError as exc:
        retry_or_raise(self, exc)
        raise


@shared_task(bind=True, max_retries=5)
def journey_refresh(self, journey_id: str) -> None:
    """Re-read one journey's detail into its mirror row (webhook deliveries queued before webhook_process)."""
    try:
        journey_refresh_service(journey_id=journey_id)
    except MintError as exc:
        retry_or_raise(self, exc)
        raise


@shared_task(bind=True, max_retries=5)
def webhook_process(self, event_id: str, event_name: str, target_id: str) -> str:
    """Webhook: record the event's id and refresh the journey or workflow it names (journeys/webhooks.py)."""
    try:
        return webhook_process_service(event_id=event_id, event_name=event_name, target_id=target_id,
                                       check_repeat=self.request.retries == 0)
    except MintError as exc:
        retry_or_raise(self, exc)
        raise


@shared_task
def webhook_events_prune() -> int:
    """Beat (daily): forget event ids too old to be delivered again."""
    return webhook_events_prune_service()
