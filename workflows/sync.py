"""Keeping the workflow mirror (``accounts.models.WorkflowRecord``) current, and the lease every mirror's sync takes.

The lease lives here, in the lowest app that syncs a mirror, so that the journey sync above
(journeys/services/sync.py) takes the same kind of lease on its own ``SyncState`` row.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mintportal.mint import get_client
from mintportal.mint.client import PAGE_LIMIT
from workflows.models import SyncState
from workflows.services import workflow_cache_invalidate, workflow_mirror_save

WORKFLOWS: Final = "workflows"


class SyncLease:
    """A lease on one ``SyncState`` row: held by at most one run, renewed as the run makes progress."""

    def __init__(self, name: str, *, ttl: timedelta | None = None) -> None:
        self.name = name
        self.ttl = ttl if ttl is not None else timedelta(seconds=settings.MINT_SYNC_LEASE_SECONDS)
        self.owner = uuid.uuid4().hex
        self.held = False

    def acquire(self) -> bool:
        SyncState.objects.get_or_create(name=self.name)
        now = timezone.now()
        taken = SyncState.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=self.owner), name=self.name
        ).update(lease_owner=self.owner, lease_until=now + self.ttl, last_started_at=now)
        self.held = bool(taken)
        return self.held

    def renew(self) -> None:
        """Extends the lease; raises if another run took it over (ours expired), so this run stops writing."""
        renewed = SyncState.objects.filter(name=self.name, lease_owner=self.owner).update(
            lease_until=timezone.now() + self.ttl
        )
        if not renewed:
            self.held = False
            raise SyncLeaseLost(f"the {self.name} sync lease expired and was taken by another run")

    def release(self, **fields: object) -> None:
        """Gives the lease back, writing ``fields`` (watermark, results) in the same conditional UPDATE."""
        if not self.held:
            return
        SyncState.objects.filter(name=self.name, lease_owner=self.owner).update(
            lease_owner="", lease_until=None, **fields
        )
        self.held = False

    def fail(self, exc: Exception) -> None:
        """Gives the lease back after a failed run, recording the error (the watermark stays where it was)."""
        self.release(last_error=f"{type(exc).__name__}: {exc}"[:500])


class SyncLeaseLost(RuntimeError):
    """This run's lease expired and another run took it; the run stops without moving the watermark."""


@dataclass(frozen=True)
class WorkflowSyncResult:
    skipped: bool = False
    mint_calls: int = 0
    upserted: int = 0
    seconds: float = 0.0


def workflow_sync(*, workflow_id: str | None = None) -> WorkflowSyncResult:
    """Mirrors workflows (name, description, tags, latest version) into ``accounts.models.WorkflowRecord``.

    Mint's listing carries no tags, so each workflow's definition is fetched as well; there are few
    workflows, and tag scopes need the tags. With ``workflow_id`` only that workflow is fetched (a webhook
    said it changed) and no lease is taken, and that workflow's cached definition, versions and the workflow
    listings are invalidated, as after a write through the portal. Workflows are never deleted here: Mint has
    no deletion, and a scope naming an id that disappeared simply matches nothing.
    """
    started = time.monotonic()
    client = get_client()
    if workflow_id is not None:
        workflow_mirror_save(workflow=client.get_workflow(workflow_id))
        workflow_cache_invalidate(workflow_id=workflow_id)
        return WorkflowSyncResult(mint_calls=1, upserted=1, seconds=time.monotonic() - started)
    lease = SyncLease(WORKFLOWS)
    if not lease.acquire():
        return WorkflowSyncResult(skipped=True)
    try:
        calls = upserted = 0
        offset = 0
        while True:
            page = client.list_workflows(offset=offset, limit=PAGE_LIMIT)
            calls += 1
            for summary in page.data:
                workflow_mirror_save(workflow=client.get_workflow(summary.id))
                calls += 1
                upserted += 1
            offset += len(page.data)
            if not page.data or offset >= page.total_count:
                break
            lease.renew()
        result = WorkflowSyncResult(mint_calls=calls, upserted=upserted, seconds=time.monotonic() - started)
        lease.release(last_finished_at=timezone.now(), last_error="",
                      last_result={"mint_calls": calls, "upserted": upserted, "seconds": round(result.seconds, 3)})
        return result
    except Exception as exc:
        lease.fail(exc)
        raise
