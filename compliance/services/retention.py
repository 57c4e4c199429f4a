"""Retention: the portal forgets the data of journeys that ended longer ago than their workflow keeps it.

A journey is *due* when its status is final, its data is still there (``data_removed_at`` is null) and it ended
(``finished_at``, else ``cancelled_at``, else ``faulted_at``, else ``last_executed_at``) at or before
``now - retention_days(workflow)``; 0 days means as soon as it ends. A journey with none of those dates has no
known end and is kept.

Forgetting (``journeys_data_forget``, shared with erasure) clears the mirror's data, deletes the journey's
``PersonalValue`` rows, masks its name (computed from the data before it is cleared: names can hold a person's
name) and clears the input kept on its launches. Status, dates, ids, step visits and the audit trail stay, so
lists and statistics still count the journey. Mint keeps its own copy until Mint's own retention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.services import audit_record
from compliance.selectors import retention_due
from journeys.models import Journey, PersonalValue
from journeys.services.mirror import journey_mirror_changed
from launches.models import Launch
from privacy.masking import Masker

# A run forgets at most this many batches, so one beat tick never holds a worker for long; the next run goes on
# where this one stopped (what it forgot left the partial index the query walks).
MAX_BATCHES_PER_RUN: Final = 100
RETENTION: Final = "retention"
ERASURE: Final = "erasure"


@dataclass(frozen=True)
class Forgotten:
    """What forgetting one journey removed from the portal."""

    journey_id: str
    workflow_id: str
    status: str
    had_input: bool
    step_count: int
    personal_values: int
    name_masked: bool
    launch_inputs: int

    def described(self) -> list[str]:
        """The removals in words, for the erasure report (never a value)."""
        parts = []
        if self.had_input:
            parts.append("input")
        if self.step_count:
            parts.append(f"data of {self.step_count} step{'s' if self.step_count != 1 else ''}")
        if self.personal_values:
            parts.append(f"{self.personal_values} personal value hash{'es' if self.personal_values != 1 else ''}")
        if self.name_masked:
            parts.append("personal words of the name (masked)")
        if self.launch_inputs:
            parts.append(f"input kept on {self.launch_inputs} launch{'es' if self.launch_inputs != 1 else ''}")
        return parts or ["nothing held (already empty)"]


@dataclass(frozen=True)
class RetentionRun:
    removed: dict[str, int] = field(default_factory=dict)  # journeys forgotten per workflow id
    batches: int = 0
    # False when the run stopped at its batch limit with due journeys left for the next run.
    complete: bool = True

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def _data_parts(data: object) -> tuple[bool, int]:
    if not isinstance(data, dict):
        return False, 0
    steps = data.get("steps")
    return bool(data.get("input")), len(steps) if isinstance(steps, dict) else 0


def _journeys_clear(*, ids: list[str], renamed: list[Journey], by: str, now: datetime) -> None:
    """Clears the rows' data and marks them forgotten, with the masked names of ``renamed``."""
    if connection.vendor == "postgresql" and renamed:
        # One UPDATE joined to the new names instead of two (Django's bulk_update writes a CASE per row, which
        # costs as much again at a thousand rows).
        table = connection.ops.quote_name(Journey._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS j SET data = '{{}}'::jsonb, data_removed_at = %s, data_removed_by = %s, "
                "name = COALESCE(v.name, j.name) "
                "FROM unnest(%s::text[]) AS i(id) LEFT JOIN unnest(%s::text[], %s::text[]) AS v(id, name) "
                "ON v.id = i.id WHERE j.id = i.id AND j.data_removed_at IS NULL",
                [now, by, ids, [row.id for row in renamed], [row.name for row in renamed]],
            )
        return
    Journey.objects.filter(pk__in=ids, data_removed_at__isnull=True).update(
        data={}, data_removed_at=now, data_removed_by=by)
    if renamed:
        Journey.objects.bulk_update(renamed, ["name"])


def journeys_data_forget(*, journeys: Sequence[Journey], by: str, now: datetime) -> list[Forgotten]:
    """Forgets the data of ``journeys`` (rows read with ``id``, ``workflow_id``, ``status``, ``name`` and ``data``,
    locked by the caller's transaction) and returns what went. Rows already forgotten are left as they are.

    Call inside a transaction; the caller retires the cached lists (``journey_mirror_changed``) after it commits.
    """
    rows = [row for row in journeys if row.data_removed_at is None]
    if not rows:
        return []
    ids = [row.id for row in rows]
    # The name is masked by the journey's own markers before they are gone: afterwards nothing knows its words.
    masked = {row.id: Masker.for_data(row.data).text(row.name) for row in rows}
    renamed = [Journey(id=row.id, name=masked[row.id]) for row in rows if masked[row.id] != row.name]
    values = Counter(PersonalValue.objects.filter(journey_id__in=ids).values_list("journey_id", flat=True))
    launches = Counter(Launch.objects.filter(journey_id__in=ids).exclude(input={})
                       .values_list("journey_id", flat=True))
    _journeys_clear(ids=ids, renamed=renamed, by=by, now=now)
    if values:
        PersonalValue.objects.filter(journey_id__in=ids).delete()
    if launches:
        # Bulk-launch rows are Launch rows too (with their CSV row's input), so this clears them as well.
        Launch.objects.filter(journey_id__in=ids).exclude(input={}).update(input={})
    forgotten = []
    for row in rows:
        had_input, step_count = _data_parts(row.data)
        forgotten.append(Forgotten(
            journey_id=row.id, workflow_id=row.workflow_id, status=row.status, had_input=had_input,
            step_count=step_count, personal_values=values[row.id], name_masked=masked[row.id] != row.name,
            launch_inputs=launches[row.id],
        ))
    return forgotten


def retention_apply(*, now: datetime | None = None, batch_size: int | None = None,
                    max_batches: int | None = MAX_BATCHES_PER_RUN) -> RetentionRun:
    """Forgets the data of every due journey, in batches of ``batch_size`` (``RETENTION_BATCH_SIZE``), each in
    its own transaction, at most ``max_batches`` (None: until none is due). Idempotent: forgotten journeys are no
    longer due. Audits one "retention.apply" event (counts per workflow, no names or values) when it forgot any.
    """
    now = now or timezone.now()
    size = batch_size or settings.RETENTION_BATCH_SIZE
    candidates = retention_due(now=now)
    removed: Counter[str] = Counter()
    batches = 0
    after: tuple[datetime, str] | None = None
    complete = False
    while max_batches is None or batches < max_batches:
        query = candidates
        if after is not None:
            # Keyset: continue after the last journey of the previous batch (due ones it skipped stay behind it).
            query = query.filter(Q(ended__gt=after[0]) | Q(ended=after[0], id__gt=after[1]), ended__gte=after[0])
        with transaction.atomic():
            # A concurrent run (or a mirror write) holding a row is skipped, not waited for: the next run takes it.
            rows = list(query.select_for_update(skip_locked=True, of=("self",))[:size])
            if not rows:
                complete = True
                break
            forgotten = journeys_data_forget(journeys=rows, by=RETENTION, now=now)
        batches += 1
        removed.update(item.workflow_id for item in forgotten)
        journey_mirror_changed()
        last = rows[-1]
        after = (last.ended, last.id)
        if len(rows) < size:
            complete = True
            break
    run = RetentionRun(removed=dict(sorted(removed.items())), batches=batches, complete=complete)
    if run.total:
        with transaction.atomic():
            audit_record(actor=None, action="retention.apply",
                         summary=f"Retention forgot the data of {run.total} journeys",
                         detail={"journeys_per_workflow": run.removed, "batches": run.batches,
                                 "complete": run.complete})
    return run
