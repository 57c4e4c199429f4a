"""Writes to the journey mirror: bulk upserts from Mint's listing and single-row refreshes from a detail.

The mapping from Mint's wire models to mirror rows lives here and nowhere else, so the sync, the webhook
refresh and the journey page all derive ``alert_level``, ``waiting_since``, ``pending_steps`` and the
``WaitingStep`` rows the same way. Both functions work on SQLite and PostgreSQL
(``INSERT … ON CONFLICT (id) DO UPDATE``).

Journey data is stored pseudonymised: every leaf its workflow version declares personal
(``privacy.selectors.declarations_for``) is written as a marker (``privacy.masking.pseudonymise``), never in clear,
and the journey's ``PersonalValue`` rows are kept equal to the value hashes its data holds. A journey whose data was
removed (``data_removed_at``: retention or erasure) never gets data or ``PersonalValue`` rows again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from journeys.models import NO_ALERT, Claim, Journey, JourneyStatus, PersonalValue, WaitingStep, severity_level
from journeys.selectors import MIRROR_GENERATION, WORK_GENERATION
from mintportal.cache import generation_bump
from privacy.masking import Masker, PersonalField, hashes_in, is_marker, pseudonymise
from privacy.selectors import declarations_for

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
# Listing fields a journey keeps once its data was removed: compliance masked the personal words of its name, and
# Mint's listing would bring them back.
_KEPT_AFTER_REMOVAL: Final = ("name",)


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
    stored = Journey.objects.filter(pk__in=[row.id for row in batch], data_removed_at__isnull=False).values(
        "id", *_KEPT_AFTER_REMOVAL)
    _keep_after_removal({row.id: row for row in batch}, {kept.pop("id"): kept for kept in stored})
    Journey.objects.bulk_create(
        batch, update_conflicts=True, unique_fields=["id"], update_fields=list(_LISTING_FIELDS)
    )
    return len(batch)


def _keep_after_removal(rows: Mapping[str, Journey], removed: Mapping[str, Mapping[str, Any]]) -> None:
    """Gives the ``rows`` of journeys whose data was removed their stored values of ``_KEPT_AFTER_REMOVAL``."""
    for journey_id, stored in removed.items():
        if journey_id in rows:
            for name in _KEPT_AFTER_REMOVAL:
                setattr(rows[journey_id], name, stored[name])


def _mask_shown(row: Journey, data: Any, *, fields: Sequence[PersonalField]) -> bool:
    """Masks a row's name and alert messages by the personal values its (pseudonymised) ``data`` knows, and by
    identifiers found by format; returns whether either changed. Only for journeys of workflows that declare
    personal data: a name built from a customer's name ("Onboarding – Kari Nordmann") is stored as
    "Onboarding – K*** N***", so lists, exports and the name search never hold or match it."""
    if not fields:
        return False
    masker = Masker.for_data(data if isinstance(data, dict) else {})
    name = masker.text(row.name)
    alerts = [{**alert, "message": masker.text(alert["message"])}
              if isinstance(alert, dict) and isinstance(alert.get("message"), str) else alert
              for alert in row.alerts or []]
    changed = name != row.name or alerts != row.alerts
    row.name, row.alerts = name, alerts
    return changed


def _mask_listing(batch: list[Journey]) -> None:
    """``_mask_shown`` for a listing batch: by the data each journey already has in the mirror (a journey listed
    before its detail was read is masked by format only until the detail read that follows in the same sync)."""
    declared = declarations_for({(row.workflow_id, row.version) for row in batch})
    personal = [row for row in batch if declared[(row.workflow_id, row.version)]]
    if not personal:
        return
    stored = dict(Journey.objects.filter(pk__in=[row.id for row in personal]).values_list("id", "data"))
    for row in personal:
        _mask_shown(row, stored.get(row.id) or {}, fields=declared[(row.workflow_id, row.version)])


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
    removed = _column("data_removed_at")[1]
    kept = {_column(name)[1] for name in _KEPT_AFTER_REMOVAL}
    updates = [f"{name} = CASE WHEN {table}.{removed} IS NULL THEN EXCLUDED.{name} ELSE {table}.{name} END"
               if name in kept else f"{name} = EXCLUDED.{name}" for name in quoted[1:]]
    # The count runs in the same statement, so it sees the rows as they were before the upsert.
    shown = [_column(name)[1] for name in _SHOWN_FIELDS]
    stored = ", ".join(f"stored.{name}" for name in shown)
    incoming = ", ".join(f"CASE WHEN stored.{removed} IS NULL THEN incoming.{name} ELSE stored.{name} END"
                         if name in kept else f"incoming.{name}" for name in shown)
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
        _mask_listing(batch)
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
    data is left as it is. The input is pseudonymised by the journey's declaration and its ``PersonalValue`` rows
    follow; a journey whose data was removed takes nothing (returns False).
    """
    with transaction.atomic():
        row = (Journey.objects.filter(pk=journey_id, data_removed_at__isnull=True)
               .values_list("workflow_id", "version").first())
        if row is None:
            return False
        fields = declarations_for([row])[row]
        marked = pseudonymise({INPUT: dict(input)}, fields)[INPUT]
        # Conditional on the data still being there: a removal committed since the read above wins.
        written = Journey.objects.filter(pk=journey_id, data_removed_at__isnull=True).update(
            data=_DataKeySet(INPUT, marked))
        if written:
            # Read back under the row lock the UPDATE holds: the step data may have been written meanwhile.
            stored = Journey.objects.only("name", "alerts", "data").get(pk=journey_id)
            _personal_values_replace({journey_id: stored.data})
            # The name was written from the detail before the input was known here (Mint's detail has none).
            if _mask_shown(stored, stored.data, fields=fields):
                Journey.objects.filter(pk=journey_id).update(name=stored.name, alerts=stored.alerts)
    if written:
        journey_mirror_changed()
    return bool(written)


def _personal_values_replace(data_by_journey: Mapping[str, Any]) -> int:
    """Makes each journey's ``PersonalValue`` rows the value hashes its (pseudonymised) data holds: one read, then
    only the differences deleted and inserted in bulk; returns how many rows it deleted or inserted."""
    wanted = {journey_id: hashes_in(data) for journey_id, data in data_by_journey.items()}
    stored: dict[str, set[str]] = defaultdict(set)
    for journey_id, digest in PersonalValue.objects.filter(journey_id__in=list(wanted)).values_list(
            "journey_id", "hash"):
        stored[journey_id].add(digest)
    gone = Q()
    new: list[PersonalValue] = []
    for journey_id, hashes in wanted.items():
        if stored[journey_id] - hashes:
            gone |= Q(journey_id=journey_id, hash__in=sorted(stored[journey_id] - hashes))
        new += [PersonalValue(journey_id=journey_id, hash=digest) for digest in sorted(hashes - stored[journey_id])]
    deleted = PersonalValue.objects.filter(gone).delete()[0] if gone else 0
    PersonalValue.objects.bulk_create(new, ignore_conflicts=True)
    return deleted + len(new)


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
              .values("id", *_SHOWN_FIELDS, "data", "data_removed_at")}
    stored_data = {journey_id: row.pop("data") for journey_id, row in before.items()}
    removed = {journey_id for journey_id, row in before.items() if row.pop("data_removed_at") is not None}
    declared = declarations_for({(detail.workflow_id, detail.version) for detail in details.values()})
    names = dict(workflow_names or {})
    unnamed = {detail.workflow_id for journey_id, detail in details.items()
               if journey_id not in names and not (before.get(journey_id) or {}).get("workflow_name")}
    known = dict(WorkflowRecord.objects.filter(pk__in=unnamed).values_list("id", "name")) if unnamed else {}
    rows: dict[str, Journey] = {}
    # Per journey, the keys of ``data`` whose stored value differs from the detail's.
    changed_data: dict[str, dict[str, dict[str, Any]]] = {}
    # The journeys whose data held or now holds personal values: only their PersonalValue rows can change.
    personal: set[str] = set()
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
        # Pseudonymising is deterministic, so an unchanged detail still compares equal to what is stored.
        sent = pseudonymise(sent, declared[(detail.workflow_id, detail.version)])
        stored = stored_data.get(journey_id)
        stored = stored if isinstance(stored, dict) else {}
        if journey_id in removed:
            sent = {}
        differing = {key: value for key, value in sent.items() if stored.get(key) != value}
        if journey_id in before and differing:
            changed_data[journey_id] = differing
        if hashes_in(sent) or hashes_in(stored):
            personal.add(journey_id)
        row.data = {**stored, **sent}
        _mask_shown(row, row.data, fields=declared[(detail.workflow_id, detail.version)])
        rows[journey_id] = row
    _keep_after_removal(rows, {journey_id: before[journey_id] for journey_id in removed})
    with transaction.atomic():
        Journey.objects.bulk_create(
            list(rows.values()), update_conflicts=True, unique_fields=["id"],
            update_fields=[*_LISTING_FIELDS, "detail_seen_at"],
        )
        for journey_id, differing in changed_data.items():
            # Set in the database key by key, not from the copy read above, so an input recorded meanwhile is kept
            # (unless the detail itself sent one).
            for key, value in differing.items():
                Journey.objects.filter(pk=journey_id, data_removed_at__isnull=True).update(
                    data=_DataKeySet(key, value))
        # The rows whose data was written (new ones, changed ones) and held or hold personal values, read back as
        # stored (an input recorded meanwhile included), for their value hashes.
        written = [journey_id for journey_id in rows
                   if journey_id in personal and (journey_id not in before or journey_id in changed_data)]
        if written:
            _personal_values_replace(dict(Journey.objects.filter(pk__in=written, data_removed_at__isnull=True)
                                          .values_list("id", "data")))
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


@dataclass(frozen=True)
class Remarked:
    """What ``journey_data_remark`` wrote: journeys whose data changed, ``PersonalValue`` rows inserted or deleted,
    and journeys whose detail was marked stale (to be read again for fields no longer declared)."""

    data: int = 0
    personal_values: int = 0
    stale: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"data": self.data, "personal_values": self.personal_values, "stale": self.stale}


def _marker_paths(node: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The key path of each marker in ``node`` (lists walked into, as ``pseudonymise`` walks them)."""
    if is_marker(node):
        yield keys
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _marker_paths(value, (*keys, str(key)))
    elif isinstance(node, list):
        for value in node:
            yield from _marker_paths(value, keys)


def _undeclared_marker(data: Any, fields: Sequence[PersonalField]) -> bool:
    """Whether ``data`` holds a marker that no declared field covers (a field declared no longer)."""
    declared = [personal.keys for personal in fields]
    return any(not any(path[:len(keys)] == keys for keys in declared) for path in _marker_paths(data))


def journey_data_remark(*, workflow_id: str, batch_size: int = BATCH_SIZE) -> Remarked:
    """Brings one workflow's stored journey data in line with its declarations (after one changed): walks its
    journeys in batches (keyset on id, each batch one transaction with its rows locked), pseudonymises the stored
    data by the current declaration and makes the ``PersonalValue`` rows follow. Idempotent: a second run writes
    nothing. Journeys whose data was removed are left alone.

    A marker cannot be turned back into its value: a journey holding a marker for a field no longer declared has
    its detail marked stale (``detail_seen_at`` cleared), so the sync reads it again and stores the step data in
    clear. An input field stays a marker (Mint's detail has no input to read it from again).
    Retires the cached lists at the end (what the list's filters do with a path depends on the declarations)."""
    data_written = values_written = stale = 0
    last = ""
    while True:
        with transaction.atomic():
            batch = list(Journey.objects.select_for_update().filter(
                workflow_id=workflow_id, id__gt=last, data_removed_at__isnull=True)
                .order_by("id").values_list("id", "version", "data", "detail_seen_at", "name", "alerts")[:batch_size])
            if not batch:
                break
            last = batch[-1][0]
            declared = declarations_for({(workflow_id, version) for _, version, *_ in batch})
            changed: list[Journey] = []
            unseen: list[str] = []
            stored: dict[str, Any] = {}
            for journey_id, version, data, seen, name, alerts in batch:
                fields = declared[(workflow_id, version)]
                marked = pseudonymise(data, fields)
                row = Journey(id=journey_id, data=marked, name=name, alerts=alerts)
                shown_changed = _mask_shown(row, marked, fields=fields)
                if marked != data or shown_changed:
                    changed.append(row)
                if seen is not None and _undeclared_marker(marked, fields):
                    unseen.append(journey_id)
                stored[journey_id] = marked
            if changed:
                Journey.objects.bulk_update(changed, ["data", "name", "alerts"], batch_size=batch_size)
            if unseen:
                Journey.objects.filter(pk__in=unseen).update(detail_seen_at=None)
            data_written += len(changed)
            stale += len(unseen)
            values_written += _personal_values_replace(stored)
    journey_mirror_changed()
    return Remarked(data=data_written, personal_values=values_written, stale=stale)


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
