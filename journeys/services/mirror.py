"""Writes to the journey mirror: bulk upserts from Mint's listing and single-row refreshes from a detail.

The mapping from Mint's wire models to mirror rows lives here and nowhere else, so the sync, the webhook
refresh and the journey page all derive ``alert_level``, ``waiting_since`` and ``pending_steps`` the same way.
Both functions work on SQLite and PostgreSQL (``INSERT … ON CONFLICT (id) DO UPDATE``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import WorkflowRecord
from journeys.models import Journey, JourneyStatus
from journeys.selectors import MIRROR_GENERATION
from mintportal.cache import generation_bump

if TYPE_CHECKING:
    from mintportal.mint import models as mint

# Rows per INSERT statement: large enough to amortise round trips, small enough for SQLite's variable limit.
BATCH_SIZE: Final = 500

ALERT_LEVELS: Final[dict[str, int]] = {"info": 1, "warning": 2, "critical": 3}
# A severity Mint adds later still counts as an alert, so it sorts above journeys with none.
_UNKNOWN_SEVERITY_LEVEL: Final = 1

# Fields that Mint's listing describes: a listing upsert overwrites exactly these.
_LISTING_FIELDS: Final = (
    "workflow_id", "workflow_name", "version", "status", "name", "created_at", "last_executed_at", "finished_at",
    "faulted_at", "cancelled_at", "pending_steps", "alerts", "alert_count", "alert_level", "waiting_since", "seen_at",
    "gone_at",
)
# The listing fields that pages show: a write that changes none of them leaves cached lists valid.
_SHOWN_FIELDS: Final = tuple(name for name in _LISTING_FIELDS if name != "seen_at")


def alert_level(alerts: Sequence[Any]) -> int:
    """The highest severity among ``alerts`` as 0 (none), 1 (info), 2 (warning) or 3 (critical)."""
    level = 0
    for alert in alerts:
        severity = str(getattr(alert, "severity", "") or "").lower()
        level = max(level, ALERT_LEVELS.get(severity, _UNKNOWN_SEVERITY_LEVEL))
    return level


def _dump(items: Sequence[Any]) -> list[dict[str, Any]]:
    # Stored in Mint's own camelCase shape ([{stepId, severity, message, timestamp}]) as JSON-safe values.
    return [item.model_dump(mode="json", by_alias=True) for item in items]


def _status(value: Any) -> str:
    # The client may type statuses as an Enum; the mirror stores the wire value ("active", ...).
    return str(getattr(value, "value", value))


def _waiting_since(status: str, last_executed_at: datetime | None) -> datetime | None:
    return last_executed_at if status == JourneyStatus.ACTIVE else None


def _row(
    source: mint.JourneySummary | mint.JourneyDetail,
    *,
    workflow_name: str,
    pending_steps: bool,
    active_steps: list[dict[str, Any]],
    seen_at: datetime,
    detail_seen_at: datetime | None = None,
) -> Journey:
    """A mirror row from the fields that a journey's summary and its detail share."""
    alerts = list(source.alerts or [])
    status = _status(source.status)
    return Journey(
        id=source.id,
        workflow_id=source.workflow_id,
        workflow_name=workflow_name,
        version=source.version,
        status=status,
        name=source.name or "",
        created_at=source.created_at,
        last_executed_at=source.last_executed_at,
        finished_at=source.finished_at,
        faulted_at=source.faulted_at,
        cancelled_at=source.cancelled_at,
        pending_steps=pending_steps,
        alerts=_dump(alerts),
        alert_count=len(alerts),
        alert_level=alert_level(alerts),
        waiting_since=_waiting_since(status, source.last_executed_at),
        active_steps=active_steps,
        detail_seen_at=detail_seen_at,
        seen_at=seen_at,
        gone_at=None,
    )


def _row_from_summary(summary: mint.JourneySummary, seen_at: datetime) -> Journey:
    return _row(
        summary, workflow_name=summary.workflow_name or "", pending_steps=bool(summary.pending_steps),
        active_steps=[], seen_at=seen_at,
    )


def _chunks(items: Iterable[Journey], size: int) -> Iterator[list[Journey]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _upsert_portable(batch: list[Journey]) -> int:
    """Django's ``bulk_create(update_conflicts=True)``: any database (the embedded default's SQLite).

    It cannot tell changed rows from unchanged ones, so it counts every row as changed.
    """
    waiting = [row for row in batch if row.pending_steps]
    settled = [row for row in batch if not row.pending_steps]
    if waiting:
        Journey.objects.bulk_create(
            waiting, update_conflicts=True, unique_fields=["id"], update_fields=list(_LISTING_FIELDS)
        )
    if settled:
        Journey.objects.bulk_create(
            settled, update_conflicts=True, unique_fields=["id"], update_fields=[*_LISTING_FIELDS, "active_steps"]
        )
    return len(batch)


def _upsert_postgresql(batch: list[Journey]) -> int:
    """One ``INSERT … SELECT FROM unnest(<one array per column>) ON CONFLICT`` per batch; returns how many
    rows were new or changed in what the journeys list shows.

    Twenty array parameters instead of twenty per row: Django's bulk_create spends most of a large sync
    compiling and binding ten thousand parameters per batch, this statement almost none (about 4× faster).
    """
    fields = [Journey._meta.get_field(name) for name in ("id", *_LISTING_FIELDS, "active_steps")]
    columns = [field.column for field in fields]
    arrays = []
    for field in fields:
        values = [getattr(row, field.attname) for row in batch]
        if field.get_internal_type() == "JSONField":
            values = [json.dumps(value, separators=(",", ":")) for value in values]
        arrays.append(values)
    casts = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    table = connection.ops.quote_name(Journey._meta.db_table)
    quoted = [connection.ops.quote_name(column) for column in columns]
    updates = [f"{name} = EXCLUDED.{name}" for name in quoted[1:-1]]
    # Only a journey's detail knows its active steps: keep them while it still has pending steps.
    active = quoted[-1]
    updates.append(
        f"{active} = CASE WHEN EXCLUDED.{connection.ops.quote_name('pending_steps')} "
        f"THEN {table}.{active} ELSE EXCLUDED.{active} END"
    )
    # The count runs in the same statement, so it sees the rows as they were before the upsert.
    shown = [connection.ops.quote_name(Journey._meta.get_field(name).column) for name in _SHOWN_FIELDS]
    stored = ", ".join(f"stored.{name}" for name in shown)
    incoming = ", ".join(f"incoming.{name}" for name in shown)
    sql = (
        f"WITH incoming AS (SELECT * FROM unnest({casts}) AS incoming ({', '.join(quoted)})), "
        f"upsert AS (INSERT INTO {table} ({', '.join(quoted)}) SELECT * FROM incoming "
        f"ON CONFLICT ({quoted[0]}) DO UPDATE SET {', '.join(updates)}) "
        f"SELECT count(*) FROM incoming LEFT JOIN {table} AS stored ON stored.{quoted[0]} = incoming.{quoted[0]} "
        f"WHERE stored.{quoted[0]} IS NULL OR ({stored}) IS DISTINCT FROM ({incoming})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.fetchone()[0]


def journey_mirror_upsert(*, summaries: Iterable[mint.JourneySummary], seen_at: datetime) -> int:
    """Inserts or updates one mirror row per journey summary and returns how many rows were written.

    ``summaries`` is consumed lazily in batches of ``BATCH_SIZE``, so a generator over Mint's pages keeps
    memory flat however many journeys it yields. Every listing field is overwritten and ``seen_at`` set;
    ``active_steps`` and ``detail_seen_at`` (known only from a journey's detail) are kept, except that
    ``active_steps`` is cleared for journeys that no longer have pending steps. Each batch is its own
    transaction, so a failure part-way keeps the batches already written (they are correct on their own).
    A batch that changed what lists show retires the cached lists (``journey_mirror_changed``).
    """
    upsert = _upsert_postgresql if connection.vendor == "postgresql" else _upsert_portable
    written = 0
    rows = (_row_from_summary(summary, seen_at) for summary in summaries)
    for chunk in _chunks(rows, BATCH_SIZE):
        # One INSERT may not touch a row twice (PostgreSQL refuses); a page overlap can repeat a journey,
        # and its later copy is the newer one.
        batch = list({row.id: row for row in chunk}.values())
        with transaction.atomic():
            changed = upsert(batch)
        written += len(batch)
        if changed:
            # Per batch, so that lists show each batch as soon as it is committed during a long sync.
            journey_mirror_changed()
    return written


def journey_mirror_refresh(*, journey: mint.JourneyDetail, workflow_name: str | None = None) -> Journey:
    """Writes the mirror row for one journey from its detail (as read from Mint) and returns it.

    Besides the listing fields it stores ``active_steps`` ([{stepId, stepType}]) and ``detail_seen_at``.
    The detail carries no workflow name: pass ``workflow_name`` when known; otherwise the row keeps the
    name it has, or takes it from the workflow mirror. ``pending_steps`` is true when steps are active.
    """
    now = timezone.now()
    shown_before = Journey.objects.filter(pk=journey.id).values(*_SHOWN_FIELDS).first()
    if workflow_name is None:
        workflow_name = (
            (shown_before or {}).get("workflow_name")
            or WorkflowRecord.objects.filter(pk=journey.workflow_id).values_list("name", flat=True).first()
            or ""
        )
    active_steps = list(journey.active_steps or [])
    row = _row(
        journey, workflow_name=workflow_name, pending_steps=bool(active_steps), active_steps=_dump(active_steps),
        seen_at=now, detail_seen_at=now,
    )
    Journey.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["id"],
        update_fields=[*_LISTING_FIELDS, "active_steps", "detail_seen_at"],
    )
    # A journey's page refreshes its row on every view; only a change should retire the cached lists.
    if shown_before != {name: getattr(row, name) for name in _SHOWN_FIELDS}:
        journey_mirror_changed()
    return row


def journey_mirror_changed() -> None:
    """Retires every cached journeys list: called after any mirror write that changes what lists show."""
    generation_bump(MIRROR_GENERATION)
