"""Writes to the journey mirror: bulk upserts from Mint's listing and single-row refreshes from a detail.

The mapping from Mint's wire models to mirror rows lives here and nowhere else, so the sync, the webhook
refresh and the journey page all derive ``alert_level``, ``waiting_since``, ``pending_steps`` and the
``WaitingStep`` rows the same way. Both functions work on SQLite and PostgreSQL
(``INSERT … ON CONFLICT (id) DO UPDATE``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Field, Func, JSONField, Q
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from accounts.models import WorkflowRecord
from journeys.datafilter import INPUT, STEPS
from journeys.models import NO_ALERT, Claim, Journey, JourneyStatus, WaitingStep, severity_level
from journeys.selectors import MIRROR_GENERATION, WORK_GENERATION
from mintportal.cache import generation_bump

if TYPE_CHECKING:
    from mintportal.mint import models as mint

# Rows per INSERT statement: large enough to amortise round trips, small enough for SQLite's variable limit.
BATCH_SIZE: Final = 500

# Fields that Mint's listing describes: a listing upsert overwrites exactly these.
_LISTING_FIELDS: Final = (
    "workflow_id", "workflow_name", "version", "status", "name", "created_at", "last_executed_at", "finished_at",
    "faulted_at", "cancelled_at", "pending_steps", "alerts", "alert_count", "alert_level", "waiting_since", "seen_at",
    "gone_at",
)
# The listing fields that pages show: a write that changes none of them leaves cached lists valid.
_SHOWN_FIELDS: Final = tuple(name for name in _LISTING_FIELDS if name != "seen_at")


def alert_level(alerts: Sequence[mint.Alert]) -> int:
    """The highest severity among ``alerts`` as an alert level (``journeys.models.severity_level``)."""
    return max((severity_level(alert.severity) for alert in alerts), default=NO_ALERT)


def _dump(alerts: Sequence[mint.Alert]) -> list[dict[str, Any]]:
    # Stored in Mint's own camelCase shape ([{stepId, severity, message, timestamp}]) as JSON-safe values.
    return [alert.model_dump(mode="json", by_alias=True) for alert in alerts]


def _waiting_since(status: str, last_executed_at: datetime | None) -> datetime | None:
    return last_executed_at if status == JourneyStatus.ACTIVE else None


def _row(
    source: mint.JourneySummary | mint.JourneyDetail,
    *,
    workflow_name: str,
    pending_steps: bool,
    seen_at: datetime,
    detail_seen_at: datetime | None = None,
) -> Journey:
    """A mirror row from the fields that a journey's summary and its detail share."""
    alerts = source.alerts
    status = source.status
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
        detail_seen_at=detail_seen_at,
        seen_at=seen_at,
        gone_at=None,
    )


def _row_from_summary(summary: mint.JourneySummary, seen_at: datetime) -> Journey:
    return _row(
        summary, workflow_name=summary.workflow_name or "", pending_steps=bool(summary.pending_steps),
        seen_at=seen_at,
    )


def _chunks(items: Iterable[Journey], size: int) -> Iterator[list[Journey]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _upsert_portable(batch: list[Journey]) -> int:
    """Django's ``bulk_create(update_conflicts=True)``: any database (the embedded default's SQLite).

    It cannot tell changed rows from unchanged ones, so it counts every row as changed.
    """
    Journey.objects.bulk_create(
        batch, update_conflicts=True, unique_fields=["id"], update_fields=list(_LISTING_FIELDS)
    )
    return len(batch)


def _column(name: str) -> tuple[Field[Any, Any], str]:
    """One of Journey's own fields and its quoted column name."""
    field = Journey._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise LookupError(f"Journey.{name} is not a column")
    return field, connection.ops.quote_name(field.column)


def _upsert_postgresql(batch: list[Journey]) -> int:
    """One ``INSERT … SELECT FROM unnest(<one array per column>) ON CONFLICT`` per batch; returns how many
    rows were new or changed in what the journeys list shows.

    Twenty array parameters instead of twenty per row: Django's bulk_create spends most of a large sync
    compiling and binding ten thousand parameters per batch, this statement almost none (about 4× faster).
    """
    fields = [_column(name)[0] for name in ("id", *_LISTING_FIELDS)]
    quoted = [_column(name)[1] for name in ("id", *_LISTING_FIELDS)]
    arrays = []
    for field in fields:
        values = [getattr(row, field.attname) for row in batch]
        if field.get_internal_type() == "JSONField":
            values = [json.dumps(value, separators=(",", ":")) for value in values]
        arrays.append(values)
    casts = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    table = connection.ops.quote_name(Journey._meta.db_table)
    updates = [f"{name} = EXCLUDED.{name}" for name in quoted[1:]]
    # The count runs in the same statement, so it sees the rows as they were before the upsert.
    shown = [_column(name)[1] for name in _SHOWN_FIELDS]
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
        (changed,) = cursor.fetchone()
        return int(changed)


def journey_mirror_upsert(*, summaries: Iterable[mint.JourneySummary], seen_at: datetime) -> int:
    """Inserts or updates one mirror row per journey summary and returns how many rows were written.

    ``summaries`` is consumed lazily in batches of ``BATCH_SIZE``, so a generator over Mint's pages keeps
    memory flat however many journeys it yields. Every listing field is overwritten and ``seen_at`` set;
    the waiting steps and ``detail_seen_at`` (known only from a journey's detail) are kept, except that the
    waiting steps of journeys listed without pending steps are deleted. Each batch is its own
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
            # Only a journey's detail says which steps wait; the listing can only say that none do. A claim ends
            # with its step (deleted after the steps, in the order claims lock them: journeys.services.claims).
            done = [row.id for row in batch if not row.pending_steps]
            ended = WaitingStep.objects.filter(journey_id__in=done).delete()[0]
            ended += Claim.objects.filter(journey_id__in=done).delete()[0]
        written += len(batch)
        if changed:
            # Per batch, so that lists show each batch as soon as it is committed during a long sync.
            journey_mirror_changed()
        if ended:
            waiting_work_changed()
    return written


class _DataKeySet(Func):
    """``Journey.data`` with one top-level key replaced and the others kept, in one UPDATE: the step data
    (written from details) and the input (written after a launch) never overwrite each other."""

    output_field = JSONField()

    def __init__(self, key: str, value: Any) -> None:
        super().__init__(F("data"))
        self.key = key
        self.value = json.dumps(value, separators=(",", ":"))

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,  # type: ignore[override]
               **extra_context: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return (f"jsonb_set(COALESCE({column}, '{{}}'::jsonb), %s, %s::jsonb)",
                    [*params, [self.key], self.value])
        return f"json_set(COALESCE({column}, '{{}}'), %s, json(%s))", [*params, f"$.{self.key}", self.value]


def journey_input_record(*, journey_id: str, input: Mapping[str, Any]) -> bool:
    """Keeps a journey's input in its mirror row (``data.input``) for the list's data filters; returns whether
    the row was there to take it.

    Mint's journey detail carries no input (the sandbox's does, as an extension), so only a start the portal
    made knows it: call this after the start has mirrored the row (``journey_refresh_after_write``). The step
    data is left as it is.
    """
    written = Journey.objects.filter(pk=journey_id).update(data=_DataKeySet(INPUT, dict(input)))
    if written:
        journey_mirror_changed()
    return bool(written)


def journey_mirror_refresh(*, journey: mint.JourneyDetail, workflow_name: str | None = None) -> Journey:
    """Writes the mirror row for one journey from its detail (as read from Mint) and returns it.

    Besides the listing fields it stores ``detail_seen_at``, the detail's step data (``data.steps``, for the
    list's data filters), its input (``data.input``) only when the detail carries a non-empty one (the sandbox's
    extension; Mint's detail has none, and then the input a launch recorded is kept) and replaces the journey's
    ``WaitingStep`` rows with the detail's active steps. The detail carries no workflow name: pass
    ``workflow_name`` when known; otherwise the row keeps the name it has, or takes it from the workflow mirror.
    ``pending_steps`` is true when steps are active.
    """
    names = {journey.id: workflow_name} if workflow_name is not None else {}
    return journey_mirror_refresh_many(journeys=[journey], workflow_names=names)[0]


def journey_mirror_refresh_many(
    *, journeys: Sequence[mint.JourneyDetail], workflow_names: Mapping[str, str] | None = None
) -> list[Journey]:
    """``journey_mirror_refresh`` for several details at once (the sync's detail reads), in one transaction and a
    handful of statements instead of several per journey; returns the rows in the order given (a journey given
    twice is written once, from its last detail)."""
    if not journeys:
        return []
    details = {journey.id: journey for journey in journeys}
    now = timezone.now()
    before = {row.pop("id"): row for row in Journey.objects.filter(pk__in=list(details))
              .values("id", *_SHOWN_FIELDS, "data")}
    stored_data = {journey_id: row.pop("data") for journey_id, row in before.items()}
    names = dict(workflow_names or {})
    unnamed = {detail.workflow_id for journey_id, detail in details.items()
               if journey_id not in names and not (before.get(journey_id) or {}).get("workflow_name")}
    known = dict(WorkflowRecord.objects.filter(pk__in=unnamed).values_list("id", "name")) if unnamed else {}
    rows: dict[str, Journey] = {}
    # Per journey, the keys of ``data`` whose stored value differs from the detail's.
    changed_data: dict[str, dict[str, dict[str, Any]]] = {}
    for journey_id, detail in details.items():
        name = names.get(journey_id)
        if name is None:
            name = (before.get(journey_id) or {}).get("workflow_name") or known.get(detail.workflow_id) or ""
        row = _row(detail, workflow_name=name, pending_steps=bool(detail.active_steps), seen_at=now,
                   detail_seen_at=now)
        sent = {STEPS: dict(detail.step_data)}
        # Mint's detail has no input (only the sandbox sends it): an absent one keeps what a launch recorded, and so
        # does an empty one (the same start cannot have had both; the data stays as small as without the extension).
        if "input" in detail.model_fields_set and detail.input:
            sent[INPUT] = dict(detail.input)
        stored = stored_data.get(journey_id)
        stored = stored if isinstance(stored, dict) else {}
        differing = {key: value for key, value in sent.items() if stored.get(key) != value}
        if journey_id in before and differing:
            changed_data[journey_id] = differing
        row.data = {**stored, **sent}
        rows[journey_id] = row
    with transaction.atomic():
        Journey.objects.bulk_create(
            list(rows.values()), update_conflicts=True, unique_fields=["id"],
            update_fields=[*_LISTING_FIELDS, "detail_seen_at"],
        )
        for journey_id, differing in changed_data.items():
            # Set in the database key by key, not from the copy read above, so an input recorded meanwhile is kept
            # (unless the detail itself sent one).
            for key, value in differing.items():
                Journey.objects.filter(pk=journey_id).update(data=_DataKeySet(key, value))
        steps_changed = _waiting_steps_replace_many({journey_id: detail.active_steps
                                                     for journey_id, detail in details.items()})
    if steps_changed:
        waiting_work_changed()
    # A journey's page refreshes its row on every view; only a change should retire the cached lists (which show
    # the current steps and data columns too).
    shown_changed = any(before.get(journey_id) != {name: getattr(row, name) for name in _SHOWN_FIELDS}
                        for journey_id, row in rows.items())
    if changed_data or steps_changed or shown_changed or len(before) < len(rows):
        journey_mirror_changed()
    return [rows[journey.id] for journey in journeys]


def _waiting_steps_replace(*, journey_id: str, steps: Sequence[mint.ActiveStep]) -> bool:
    """Makes the journey's WaitingStep rows the detail's active steps, in order, and ends the claims of steps no
    longer among them; writes only when they differ (a journey's page reads its detail on every view)."""
    return _waiting_steps_replace_many({journey_id: steps})


def _waiting_steps_replace_many(wanted_by_journey: Mapping[str, Sequence[mint.ActiveStep]]) -> bool:
    """``_waiting_steps_replace`` for several journeys: one read, and writes only for the journeys whose steps
    differ; returns whether any did."""
    stored: dict[str, list[tuple[str, str]]] = {journey_id: [] for journey_id in wanted_by_journey}
    for journey_id, step_id, step_type in WaitingStep.objects.filter(
            journey_id__in=list(wanted_by_journey)).order_by("journey_id", "position").values_list(
            "journey_id", "step_id", "step_type"):
        stored[journey_id].append((step_id, step_type))
    wanted = {journey_id: [(step.step_id, step.step_type) for step in steps]
              for journey_id, steps in wanted_by_journey.items()}
    changed = [journey_id for journey_id in wanted if wanted[journey_id] != stored[journey_id]]
    if not changed:
        return False
    WaitingStep.objects.filter(journey_id__in=changed).delete()
    WaitingStep.objects.bulk_create(
        WaitingStep(journey_id=journey_id, step_id=step_id, step_type=step_type, position=position)
        for journey_id in changed for position, (step_id, step_type) in enumerate(wanted[journey_id])
    )
    # A claim ends when its step stops waiting; no audit event: the continue or decision that ended the step
    # has its own, and a step Mint moved on without the portal is no one's act.
    ended = Q()
    for journey_id in changed:
        still = [step_id for step_id, _ in wanted[journey_id]]
        ended |= Q(journey_id=journey_id) & ~Q(step_id__in=still) if still else Q(journey_id=journey_id)
    Claim.objects.filter(ended).delete()
    return True


def journey_mirror_changed() -> None:
    """Retires every cached journeys list: called after any mirror write that changes what lists show."""
    generation_bump(MIRROR_GENERATION)


def waiting_work_changed() -> None:
    """Retires every cached count of waiting work: called after a write to waiting steps, claims, votes or
    decisions has been committed (earlier, a reader could cache the old count under the new generation)."""
    generation_bump(WORK_GENERATION)
