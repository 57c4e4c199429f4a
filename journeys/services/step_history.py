"""Step history: each journey's step visits (``StepVisit``), read from Mint's execution log, for the workflow graph's
"median time in step" and for where a faulted journey faulted.

The listing tells the mirror *that* a journey changed (``lastExecutedAt``, ``status``), not how long it spent in
each step; only the journey's log says that. Reading a log per journey is a Mint call each, so a run is bounded:

- it picks journeys whose log was never read, or that executed or changed status since it was
  (``Journey.history_executed_at``/``history_status`` keep what the mirror said of the journey when its log was
  read; ``journeys.models.HISTORY_STALE``, a partial index of exactly those rows); faulted journeys first, because
  only the log says at which step a journey faulted (the list's step filter and the graph's faulted counts read
  the faulted visits) and those are the journeys users look for; then most recently executed first, because the
  figures look at the last 30 days; journeys still idle have run no step and are left out;
- it reads at most ``HISTORY_READS`` logs, ``HISTORY_CONCURRENCY`` at a time, and stops at the first ``MintError``
  (what it has written stands; the next run starts again from the most recent), as the sync's detail reads do;
- the journey's ``history_*`` columns take the mirror's values from *before* the read, so a journey that changes
  while its log is read is read again by the next run, and an unchanged journey is never read twice;
- a lease (``SyncLease``) keeps two runs from reading the same logs at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from journeys.models import HISTORY_STALE, Journey, JourneyStatus, StepVisit
from journeys.step_stats import step_median_key, step_medians_load
from mintportal.cache import cache_delete
from mintportal.mint import get_client
from mintportal.mint import models as mint
from mintportal.mint.errors import MintError, MintNotFoundError
from workflows.sync import SyncLease

logger = logging.getLogger(__name__)

STEP_HISTORY: Final = "journey-step-history"
HISTORY_READS: Final = 200
HISTORY_CONCURRENCY: Final = 4
FAULTED: Final = "faulted"


@dataclass(frozen=True)
class StepHistoryResult:
    """What one run did: logs read (Mint calls), journeys whose visits were written, journeys Mint no longer has,
    and whether a Mint error ended the reads early."""

    skipped: bool = False
    mint_calls: int = 0
    written: int = 0
    missing: int = 0
    stopped: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"skipped": self.skipped, "mint_calls": self.mint_calls, "written": self.written,
                "missing": self.missing, "stopped": self.stopped, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class PendingLog:
    """A journey whose log a run is to read, with the mirror's values its history columns will record."""

    id: str
    workflow_id: str
    executed_at: datetime | None
    status: str


def _stale(rows: QuerySet[Journey], limit: int) -> list[PendingLog]:
    # The order of the ``journey_history_stale`` indexes (descending puts nulls first on PostgreSQL), so a run
    # reads their first ``limit`` entries and stops, however many journeys wait to be read.
    ordered = (rows.order_by(F("last_executed_at").desc(nulls_first=True), "id")
               .values_list("id", "workflow_id", "last_executed_at", "status")[:limit])
    return [PendingLog(*row) for row in ordered] if limit > 0 else []


def step_history_pending(*, limit: int) -> list[PendingLog]:
    """Journeys whose log is unread or older than their last change: the faulted ones first (only their log places
    them on the step that faulted, and they are what users look for), then the others; each most recently executed
    first (any that never executed before them)."""
    stale = Journey.objects.filter(HISTORY_STALE)
    faulted = _stale(stale.filter(status=JourneyStatus.FAULTED), limit)
    return faulted + _stale(stale.exclude(status=JourneyStatus.FAULTED), limit - len(faulted))


def _is_faulted(step: mint.JourneyLogStep) -> bool:
    status = step.status
    name = status.name if isinstance(status, mint.JourneyLogStepStatus) else status
    return (name or "").lower() == FAULTED


def _visits(pending: PendingLog, log: mint.JourneyLog) -> list[StepVisit]:
    visits = []
    for position, step in enumerate(log.steps):
        seconds = None
        if step.started_at is not None and step.ended_at is not None:
            # A clock step backwards in Mint's log would give a negative time; it counts as no time at all.
            seconds = max((step.ended_at - step.started_at).total_seconds(), 0.0)
        visits.append(StepVisit(journey_id=pending.id, workflow_id=pending.workflow_id, step_id=step.step_id,
                                position=position, started_at=step.started_at, ended_at=step.ended_at,
                                faulted=_is_faulted(step), seconds=seconds))
    return visits


def _mark(pending: PendingLog) -> None:
    # Only these two columns: the mirror's own writes to the row are never overwritten.
    Journey.objects.filter(pk=pending.id).update(history_executed_at=pending.executed_at,
                                                 history_status=pending.status)


def step_history_save(*, pending: PendingLog, log: mint.JourneyLog) -> int:
    """Replaces the journey's step visits with those of ``log`` and records what the log was read for; returns how
    many visits it wrote. The caller refreshes the cached medians of the workflows it wrote (``_medians_refresh``)."""
    visits = _visits(pending, log)
    with transaction.atomic():
        StepVisit.objects.filter(journey_id=pending.id).delete()
        StepVisit.objects.bulk_create(visits)
        _mark(pending)
    return len(visits)


def _medians_refresh(workflow_ids: set[str]) -> None:
    """Replaces the cached medians of the workflows whose visits a run wrote, computed here in the worker, so that
    a workflow page never waits on a median over a busy workflow's month of visits."""
    for workflow_id in sorted(workflow_ids):
        key = step_median_key(workflow_id=workflow_id)
        cache_delete(key)
        step_medians_load(workflow_id=workflow_id)


def _batched(items: list[PendingLog], size: int) -> Iterator[list[PendingLog]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def step_history_refresh(*, limit: int = HISTORY_READS, concurrency: int = HISTORY_CONCURRENCY) -> StepHistoryResult:
    """Reads the execution log of up to ``limit`` changed journeys and writes their step visits.

    Side effects: Mint calls (``get_journey_log``, ``concurrency`` at a time), ``StepVisit`` rows, the journeys'
    ``history_*`` columns, and the cached medians of the workflows it wrote, recomputed. A journey Mint no longer
    has is marked read (its visits stay) so it is not asked for again until the mirror sees it change. A
    ``MintError`` ends the run's reads; it is logged, not raised. Returns ``skipped=True`` without calling Mint when
    another run holds the lease.
    """
    started = time.monotonic()
    lease = SyncLease(STEP_HISTORY)
    if not lease.acquire():
        return StepHistoryResult(skipped=True)
    calls = written = missing = 0
    stopped = False
    touched: set[str] = set()
    try:
        pending = step_history_pending(limit=limit)
        if pending:
            client = get_client()
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="journey-log") as pool:
                for batch in _batched(pending, concurrency * 4):
                    futures = [(item, pool.submit(client.get_journey_log, item.id)) for item in batch]
                    for item, future in futures:
                        calls += 1
                        try:
                            log = future.result()
                        except MintNotFoundError:
                            _mark(item)
                            missing += 1
                            continue
                        except MintError as exc:
                            for _, rest in futures:
                                rest.cancel()
                            logger.warning("step history: log reads stopped at %s: %s", item.id, exc)
                            stopped = True
                            break
                        step_history_save(pending=item, log=log)
                        touched.add(item.workflow_id)
                        written += 1
                    if stopped:
                        break
                    lease.renew()
        _medians_refresh(touched)
        result = StepHistoryResult(mint_calls=calls, written=written, missing=missing, stopped=stopped,
                                   seconds=time.monotonic() - started)
        lease.release(last_finished_at=timezone.now(), last_result=result.as_dict(), last_error="")
        return result
    except Exception as exc:
        lease.fail(exc)
        raise
