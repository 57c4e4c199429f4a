"""Keeping the journey mirror current: incremental syncs, full reconciles and sweeps.

How the journey sync stays correct and cheap:

- **Incremental** runs ask Mint only for journeys executed after the stored watermark minus an overlap
  (clock skew, and writes that land on the same instant), sorted by ``lastExecutedAt`` ascending. Paging
  is by key: each next page asks for journeys executed after the newest timestamp already stored (minus a
  millisecond, so identical timestamps are never skipped), and offsets are used only while a whole page
  shares one timestamp. A journey that executes again while the sync runs moves to the end of the order,
  where the same walk meets it again, instead of shifting an offset and hiding a neighbour.
- **Full reconcile** walks every journey sorted by ``createdAt`` (which never changes, so offsets are stable),
  then marks rows it did not see as gone. Its watermark is Mint's newest ``lastExecutedAt`` read *before*
  the walk, so anything that changed during the walk is picked up by the next incremental run.
- A **sweep** (``journey_sweep``) catches what neither sees cheaply: status changes without an execution (a
  journey cancelled from outside), by comparing Mint's listing per non-final status with the mirror.
- The listing says only *that* a journey waits (``pendingSteps``), not on which step, and carries no step data.
  After the listing, a run reads the detail of journeys whose detail is older than their last execution
  (``DETAIL_READS`` at most, ``DETAIL_CONCURRENCY`` calls at a time; waiting journeys first, longest waiting
  first, then the rest by latest execution), so the inbox's ``WaitingStep`` rows and the list's business data
  follow Mint without anyone opening a page; what a run leaves is read by the next.
- Pages are upserted as they arrive (never all held in memory), and the watermark moves only after a run
  succeeds. A lease row (``SyncState``, through ``workflows.sync.SyncLease``) taken with a conditional UPDATE
  keeps two beats, or a slow run and the next one, from syncing at once; a crashed worker's lease simply expires.

Watermarks are Mint's own timestamps, never the portal's clock, so a skewed or test-advanced Mint clock
cannot make the sync skip journeys.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, Final

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from journeys.models import Journey, JourneyStatus
from journeys.services.mirror import (
    journey_mirror_changed,
    journey_mirror_refresh,
    journey_mirror_refresh_many,
    journey_mirror_upsert,
)
from mintportal.mint import get_client
from mintportal.mint import models as mint
from mintportal.mint.client import PAGE_LIMIT
from mintportal.mint.errors import MintError, MintNotFoundError
from workflows.models import SyncState
from workflows.sync import SyncLease

logger = logging.getLogger(__name__)

PAGE_SIZE: Final = PAGE_LIMIT
# Pages a full reconcile requests ahead of the one being written (threads, bounded memory).
FETCH_AHEAD: Final = 2
JOURNEYS: Final = "journeys"
SWEEP: Final = "journey-sweep"
# The statuses the sweep checks: the ones a journey can leave without executing (cancelled from outside).
SWEEP_STATUSES: Final = tuple(status.value for status in JourneyStatus if status not in JourneyStatus.final())
# Per run: listing pages per status, and journeys re-read (the rest wait for the next run).
SWEEP_MAX_PAGES: Final = 10
SWEEP_MAX_REFRESHES: Final = 100
# Per run: journey details read to learn which steps wait and what data the changed journeys hold, and how many
# are asked of Mint at once. A run after 1,000 changes reads them all (figures: bench/README.md, "Business-data
# search").
DETAIL_READS: Final = 1000
DETAIL_CONCURRENCY: Final = 4
# Details read ahead of the mirror writes (per concurrent call), and details written per transaction.
READ_AHEAD: Final = 4
WRITE_BATCH: Final = 50
# Keyset paging steps back this much so journeys sharing the boundary timestamp are read again, not skipped.
_TIE_MARGIN: Final = timedelta(milliseconds=1)


@dataclass(frozen=True)
class SyncResult:
    """What one sync run did. ``skipped`` means another run held the lease and this one did nothing."""

    kind: str
    skipped: bool = False
    mint_calls: int = 0
    upserted: int = 0
    gone: int = 0
    details: int = 0
    seconds: float = 0.0
    watermark: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind, "skipped": self.skipped, "mint_calls": self.mint_calls, "upserted": self.upserted,
            "gone": self.gone, "details": self.details, "seconds": round(self.seconds, 3),
            "watermark": self.watermark.isoformat() if self.watermark else None,
        }


def _newest_executed_at() -> tuple[datetime | None, int]:
    """Mint's newest ``lastExecutedAt`` (one call), the safe watermark for a walk that starts now."""
    page = get_client().list_journeys(sort="-lastExecutedAt", limit=1)
    newest = page.data[0].last_executed_at if page.data else None
    return newest, 1


def _pages_by_created(lease: SyncLease, counter: list[int]) -> Iterator[mint.JourneySummary]:
    """Every journey in ``createdAt`` order, fetching up to ``FETCH_AHEAD`` pages ahead in threads.

    Offsets are stable in this order (a journey's creation time never changes, new journeys come last), so
    pages can be requested concurrently; they are still yielded in order and at most ``FETCH_AHEAD`` are held,
    which overlaps Mint's answering with the mirror's writing without letting memory grow. Journeys created
    during the walk are fetched after the planned pages, until a page comes back short.
    """
    client = get_client()

    def fetch(offset: int) -> mint.Page[mint.JourneySummary]:
        return client.list_journeys(sort="createdAt", offset=offset, limit=PAGE_SIZE)

    first = fetch(0)
    counter[0] += 1
    yield from first.data
    total = first.total_count
    offset = len(first.data)
    if not first.data or offset >= total:
        return
    planned = iter(range(offset, total, PAGE_SIZE))
    with ThreadPoolExecutor(max_workers=FETCH_AHEAD, thread_name_prefix="journey-sync") as pool:
        window = deque(pool.submit(fetch, next_offset) for next_offset in islice(planned, FETCH_AHEAD))
        while window:
            page = window.popleft().result()
            following = next(planned, None)
            if following is not None:
                window.append(pool.submit(fetch, following))
            counter[0] += 1
            total = max(total, page.total_count)
            offset += len(page.data)
            yield from page.data
            lease.renew()
    while offset < total:
        page = fetch(offset)
        counter[0] += 1
        yield from page.data
        offset += len(page.data)
        if not page.data:
            return
        total = page.total_count
        lease.renew()


def _pages_after(
    after: datetime | None, lease: SyncLease, counter: list[int], newest: list[datetime | None]
) -> Iterator[mint.JourneySummary]:
    """Journeys executed after ``after`` in ``lastExecutedAt`` order, by keyset pages (see module doc)."""
    client = get_client()
    cursor: datetime | None = None
    offset = 0
    while True:
        page = client.list_journeys(
            last_executed_after=after, sort="lastExecutedAt", offset=offset, limit=PAGE_SIZE
        )
        counter[0] += 1
        yield from page.data
        stamps = [j.last_executed_at for j in page.data if j.last_executed_at is not None]
        if stamps and (newest[0] is None or max(stamps) > newest[0]):
            newest[0] = max(stamps)
        if not page.data or offset + len(page.data) >= page.total_count:
            return
        page_newest = max(stamps) if stamps else None
        if page_newest is not None and (cursor is None or page_newest > cursor):
            cursor = page_newest
            after = cursor - _TIE_MARGIN
            offset = 0
        else:
            # The whole page shares the cursor's timestamp: step through that instant by offset.
            offset += len(page.data)
        lease.renew()


# A journey's detail is stale when it was never read or predates the journey's last execution (its status, steps
# or step data may have moved on). 0009_journey_data indexes exactly these rows on PostgreSQL.
_STALE: Final = Q(detail_seen_at__isnull=True) | Q(detail_seen_at__lt=F("last_executed_at"))


def _stale_ids(limit: int) -> list[str]:
    """Up to ``limit`` journeys whose detail is stale: waiting journeys first, longest waiting first (the inbox
    needs their steps), then the others that changed, most recently executed first (their step data, for the
    list's data filters)."""
    rows = Journey.objects.filter(_STALE, gone_at__isnull=True)
    waiting = list(
        rows.filter(status=JourneyStatus.ACTIVE, pending_steps=True)
        .order_by(F("waiting_since").asc(nulls_last=True), "id").values_list("id", flat=True)[:limit]
    )
    if len(waiting) >= limit:
        return waiting
    others = rows.exclude(status=JourneyStatus.ACTIVE, pending_steps=True).order_by(
        F("last_executed_at").desc(nulls_last=True), "id"
    ).values_list("id", flat=True)[:limit - len(waiting)]
    return [*waiting, *others]


def _details_refresh(lease: SyncLease, counter: list[int], *, limit: int | None = None) -> int:
    """Reads the detail of up to ``limit`` journeys that changed since their detail was read (``_stale_ids``),
    ``DETAIL_CONCURRENCY`` at a time, and writes their mirror rows (and so their ``WaitingStep`` rows and step
    data); returns how many were written.

    Mint is read in threads, a window of reads ahead of the writes, so reading goes on while the mirror is
    written here, in order, ``WRITE_BATCH`` rows per transaction. A Mint failure ends the reads of this run
    (the listing part of the run, and the details already read, stand); the next run starts again from the
    longest waiting.
    """
    ids = _stale_ids(DETAIL_READS if limit is None else limit)
    if not ids:
        return 0
    client = get_client()
    written = 0
    upcoming = iter(ids)
    with ThreadPoolExecutor(max_workers=DETAIL_CONCURRENCY, thread_name_prefix="journey-detail") as pool:
        window: deque[tuple[str, Future[mint.JourneyDetail]]] = deque()

        def read_ahead() -> None:
            while len(window) < DETAIL_CONCURRENCY * READ_AHEAD:
                journey_id = next(upcoming, None)
                if journey_id is None:
                    return
                window.append((journey_id, pool.submit(client.get_journey, journey_id)))

        read_ahead()
        batch: list[mint.JourneyDetail] = []
        while window:
            journey_id, future = window.popleft()
            read_ahead()
            counter[0] += 1
            try:
                batch.append(future.result())
            except MintNotFoundError:
                if Journey.objects.filter(pk=journey_id, gone_at__isnull=True).update(gone_at=timezone.now()):
                    journey_mirror_changed()
            except MintError as exc:
                for _, rest in window:
                    rest.cancel()
                logger.warning("journey sync: detail reads stopped at %s: %s", journey_id, exc)
                break
            if len(batch) >= WRITE_BATCH or not window:
                written += len(journey_mirror_refresh_many(journeys=batch))
                batch = []
                lease.renew()
        written += len(journey_mirror_refresh_many(journeys=batch))
    return written


def journey_sync(*, full: bool = False) -> SyncResult:
    """Brings the journey mirror up to date with Mint and returns what it did.

    Incremental by default; ``full=True`` (or no watermark yet) walks every journey and sets ``gone_at`` on
    mirror rows that Mint no longer lists. Returns ``skipped=True`` without calling Mint when another run
    holds the lease. The watermark and ``last_result`` are stored only when the run succeeds; a failure
    (a ``MintError`` after the client's own retries) is recorded in ``last_error`` and re-raised.
    """
    started = time.monotonic()
    lease = SyncLease(JOURNEYS)
    if not lease.acquire():
        logger.info("journey sync skipped: another run holds the lease")
        return SyncResult(kind="full" if full else "incremental", skipped=True)
    try:
        state = SyncState.objects.get(name=JOURNEYS)
        stored = state.watermark
        full = full or stored is None
        run_started = timezone.now()
        counter = [0]
        gone = 0
        if full or stored is None:
            watermark, calls = _newest_executed_at()
            counter[0] += calls
            upserted = journey_mirror_upsert(summaries=_pages_by_created(lease, counter), seen_at=run_started)
            # Rows refreshed during the walk carry a later seen_at, so only rows Mint no longer lists match.
            gone = Journey.objects.filter(seen_at__lt=run_started, gone_at__isnull=True).update(
                gone_at=timezone.now()
            )
            if gone:
                journey_mirror_changed()
            watermark = watermark or stored
        else:
            overlap = timedelta(seconds=settings.MINT_SYNC_OVERLAP_SECONDS)
            newest: list[datetime | None] = [stored]
            upserted = journey_mirror_upsert(
                summaries=_pages_after(stored - overlap, lease, counter, newest), seen_at=run_started
            )
            watermark = newest[0]
        details = _details_refresh(lease, counter)
        result = SyncResult(
            kind="full" if full else "incremental", mint_calls=counter[0], upserted=upserted, gone=gone,
            details=details, seconds=time.monotonic() - started, watermark=watermark,
        )
        fields: dict[str, object] = {
            "watermark": watermark, "last_finished_at": timezone.now(), "last_result": result.as_dict(),
            "last_error": "",
        }
        if full:
            fields["last_full_at"] = timezone.now()
        lease.release(**fields)
        logger.info("journey sync done: %s", result.as_dict())
        return result
    except Exception as exc:
        lease.fail(exc)
        raise


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: listing pages read, journeys re-read because Mint no longer listed them as the
    mirror had them, and how many of those had in fact changed."""

    skipped: bool = False
    mint_calls: int = 0
    listed: int = 0
    refreshed: int = 0
    changed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"skipped": self.skipped, "mint_calls": self.mint_calls, "listed": self.listed,
                "refreshed": self.refreshed, "changed": self.changed, "seconds": round(self.seconds, 3)}


def _stamp(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _not_listed(status: str, after: datetime | None, until: datetime | None, listed: set[str]) -> list[str]:
    """Mirror rows held as ``status`` and created within ``[after, until]`` that Mint's listing of ``status``
    over the same stretch of creation times did not contain (an open end is unbounded)."""
    rows = Journey.objects.filter(status=status, gone_at__isnull=True)
    if after is not None:
        rows = rows.filter(created_at__gte=after)
    if until is not None:
        rows = rows.filter(created_at__lte=until)
    return [journey_id for journey_id in rows.values_list("id", flat=True) if journey_id not in listed]


def journey_sweep(
    *, page_size: int = PAGE_SIZE, max_pages: int = SWEEP_MAX_PAGES, max_refreshes: int = SWEEP_MAX_REFRESHES
) -> SweepResult:
    """Catches status changes without an execution, which the incremental sync cannot see; returns what it did.

    A journey cancelled from outside (or for inactivity) changes status without running, so its
    ``lastExecutedAt`` stays put and the incremental sync, which asks for journeys executed since its
    watermark, never meets it. Mint's listing cannot be filtered by id, but it can by status: for each status
    the mirror holds as not final (idle, running, active) the sweep walks Mint's listing of that status in
    ``createdAt`` order and compares each page with the mirror rows of that status created over the same
    stretch. A row Mint no longer lists under its status has changed; only those are re-read
    (``journey_refresh``: one call each, and a 404 marks the row gone). Stretches join end to end, so a
    journey skipped by a shifting offset falls into the next stretch and costs a re-read, never a miss.

    Bounded per run: at most ``max_pages`` pages per status, continued by the next run from a cursor kept in
    ``SyncState`` (a rolling window), and at most ``max_refreshes`` re-reads: after its first page of a run, a
    status's walk stops before a page whose re-reads would not fit; re-reads beyond the bound wait for the next
    round of the window. A lease keeps two sweeps from running at once (``skipped``). A Mint failure
    is recorded in ``last_error`` and re-raised.
    """
    started = time.monotonic()
    lease = SyncLease(SWEEP)
    if not lease.acquire():
        return SweepResult(skipped=True)
    try:
        client = get_client()
        state = SyncState.objects.get(name=SWEEP)
        cursors: dict[str, dict[str, Any]] = dict(state.last_result.get("cursors") or {})
        calls = listed = 0
        stale: list[str] = []
        for status in SWEEP_STATUSES:
            cursor = cursors.get(status) or {}
            offset, after = int(cursor.get("offset") or 0), _stamp(cursor.get("after"))
            # Journeys the previous page listed at its last instant: this page's stretch starts there too.
            edge = set(cursor.get("edge") or [])
            for page_number in range(max_pages):
                page = client.list_journeys(status=status, sort="createdAt", offset=offset, limit=page_size)
                calls += 1
                ends = not page.data or offset + len(page.data) >= page.total_count
                until = None if ends else page.data[-1].created_at
                missing = _not_listed(status, after, until, edge | {journey.id for journey in page.data})
                # Each status moves at least a page per run; further pages only while their re-reads fit.
                if page_number and len(stale) + len(missing) > max_refreshes:
                    break
                listed += len(page.data)
                stale.extend(missing)
                edge = {journey.id for journey in page.data if journey.created_at == until}
                offset, after = (0, None) if ends else (offset + len(page.data), until)
                lease.renew()
                if ends:
                    break
            cursors[status] = {"offset": offset, "after": after.isoformat() if after else None,
                               "edge": sorted(edge) if after else []}
        changed = 0
        for journey_id in stale[:max_refreshes]:
            before = Journey.objects.filter(pk=journey_id).values_list("status", flat=True).first()
            row = journey_refresh(journey_id=journey_id)
            calls += 1
            changed += row is None or row.status != before
        result = SweepResult(mint_calls=calls, listed=listed, refreshed=min(len(stale), max_refreshes),
                             changed=changed, seconds=time.monotonic() - started)
        lease.release(last_finished_at=timezone.now(), last_error="",
                      last_result={**result.as_dict(), "cursors": cursors})
        logger.info("journey sweep done: %s", result.as_dict())
        return result
    except Exception as exc:
        lease.fail(exc)
        raise


def journey_refresh(*, journey_id: str) -> Journey | None:
    """Reads one journey's detail from Mint and writes its mirror row; returns the row.

    When Mint answers 404 the row (if any) is marked gone and None is returned. Other Mint errors
    propagate for the caller's retry policy.
    """
    try:
        detail = get_client().get_journey(journey_id)
    except MintNotFoundError:
        if Journey.objects.filter(pk=journey_id, gone_at__isnull=True).update(gone_at=timezone.now()):
            journey_mirror_changed()
        return None
    return journey_mirror_refresh(journey=detail)
