"""Writes for launches: record first, start in the background, never twice.

``launch_create`` writes the launch (pending) and queues ``launches.tasks.launch_start_task``; the task calls
``launch_start`` here, which *claims* the record with a conditional UPDATE (pending → starting) before
calling Mint. A second delivery of the same task finds the record already claimed or finished and does
nothing, so a journey is started at most once per launch. What can be lost is only certainty: if the
worker dies between claiming and recording Mint's answer, or Mint's answer is ambiguous
(``MintOutcomeUnknownError``), the launch is marked *needs review* instead of being retried blindly.

Bulk launches stream the uploaded CSV into ``Launch`` rows (draft or invalid) without holding the file in
memory; nothing is started until the user confirms, and then chunk tasks walk the rows by row number.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import islice
from typing import IO, Final, cast

from celery import signature
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.models import AuditEvent, WorkflowRecord
from accounts.services import audit_record
from journeys.services.mirror import journey_input_record
from journeys.services.refresh import journey_refresh_after_write
from journeys.tasks import journey_sync_task
from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus
from launches.selectors import InputMask, launch_fields
from launches.validation import clean_input, header_errors, input_errors
from mintportal.errors import Conflict
from mintportal.mint import errors, get_client
from mintportal.task_retries import retry_countdown

logger = logging.getLogger(__name__)

# A pending launch with no claim this long after it was recorded, or after its retry fell due, had its task
# lost (the broker was down, or restarted without the message): queue it again.
REQUEUE_AFTER: Final = timedelta(minutes=2)
# Attempts at most per launch, across retries and requeues; then a passing refusal is recorded as failed.
MAX_ATTEMPTS: Final = 10
# Rows written per INSERT while streaming a CSV.
UPLOAD_BATCH: Final = 500
# Larger uploads are refused at the header check rather than half-stored.
MAX_BULK_ROWS: Final = 50_000
MAX_CELL_LENGTH: Final = 100_000
# A byte that is not UTF-8, as the "surrogateescape" error handler passes it on.
_UNDECODED: Final = re.compile(r"[\udc80-\udcff]")
# launches/tasks.py imports this module to wrap its services, so this module queues those tasks by their
# registered names (their dotted paths) instead of importing them back: the import goes one way only.
LAUNCH_START_TASK: Final = "launches.tasks.launch_start_task"
BULK_LAUNCH_CHUNK_TASK: Final = "launches.tasks.bulk_launch_run_chunk_task"


class LaunchRetryLater(Exception):
    """Mint refused for a reason that passes (429, connection refused): the launch is pending again.

    ``countdown`` is the wait before the retry (``retry_countdown``: backoff, never below Retry-After); the
    launch records when it falls due (``retry_at``), so a retry whose message is lost is requeued. Mint's error
    is the ``__cause__``.
    """

    def __init__(self, cause: errors.MintError, *, countdown: float) -> None:
        super().__init__(str(cause))
        self.countdown = countdown


def _workflow_name(workflow_id: str) -> str:
    return WorkflowRecord.objects.filter(pk=workflow_id).values_list("name", flat=True).first() or ""


def _after_commit(queue: Callable[[], object], what: str) -> None:
    """Queues work once the records are committed. A broker outage must not turn a recorded launch into an
    error page: the launch stays pending and ``launch_requeue_stale`` queues it again within minutes."""

    def run() -> None:
        try:
            queue()
        except Exception:
            logger.exception("could not queue %s; the periodic requeue will pick it up", what)

    transaction.on_commit(run)


def _queue(task: str, *args: object, eta: datetime | None = None) -> None:
    """Sends one of this app's tasks (``LAUNCH_START_TASK``, ``BULK_LAUNCH_CHUNK_TASK``) through the project's
    Celery app (the current one, which ``mintportal/__init__.py`` loads)."""
    signature(task, args=args).apply_async(eta=eta)


def _queue_start(launch_id: uuid.UUID) -> None:
    _after_commit(lambda: _queue(LAUNCH_START_TASK, str(launch_id)), f"launch {launch_id}")


def launch_create(
    *,
    workflow_id: str,
    input: dict[str, str],
    journey_url_ttl: int,
    actor: User,
    key: str | None = None,
) -> Launch:
    """Records a launch (pending), audits it and queues the task that starts the journey.

    ``key`` makes a resubmitted form idempotent: a second call with the same key returns the first launch
    (for the same actor) instead of recording another. Access is the caller's to check (LAUNCH on the
    workflow). The task is queued when the transaction commits; should queueing fail, the periodic
    ``launch_requeue_stale`` picks the launch up again.
    """
    key = key or uuid.uuid4().hex
    existing = _launch_with_key(key, actor)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            launch = Launch.objects.create(
                key=key, workflow_id=workflow_id, workflow_name=_workflow_name(workflow_id), input=input,
                journey_url_ttl=journey_url_ttl, created_by=actor, created_at=timezone.now(),
            )
            audit_record(
                actor=actor, action="journey.launch", workflow_id=workflow_id,
                summary=f"Launch of {launch.workflow_name or workflow_id} requested",
                detail={"launch_id": str(launch.id), "input_fields": sorted(input), "journey_url_ttl": journey_url_ttl},
            )
            _queue_start(launch.id)
    except IntegrityError:
        # A concurrent submit of the same form committed the key first: its launch is this one.
        existing = _launch_with_key(key, actor)
        if existing is None:
            raise
        return existing
    return launch


def _launch_with_key(key: str, actor: User) -> Launch | None:
    existing = Launch.objects.filter(key=key).first()
    if existing is not None and existing.created_by_id != actor.pk:
        raise Conflict("This launch form was already used by someone else; open a new one.")
    return existing


def _finish(
    launch: Launch, status: str, *, audit_detail: dict[str, object] | None = None, **fields: object
) -> None:
    """Records the outcome in the database, on ``launch`` (saving a re-read per launch in bulk runs) and as an
    audit event (``_audit_outcome``, with ``audit_detail``), in one transaction."""
    fields.update(status=status, finished_at=timezone.now())
    with transaction.atomic():
        Launch.objects.filter(pk=launch.pk).update(**fields)
        for name, value in fields.items():
            setattr(launch, name, value)
        _audit_outcome(launch, **(audit_detail or {}))


_OUTCOME_EVENTS: Final[dict[str, tuple[str, str]]] = {
    LaunchStatus.STARTED: ("journey.launch.started", AuditEvent.Outcome.OK),
    LaunchStatus.FAILED: ("journey.launch.failed", AuditEvent.Outcome.FAILED),
    LaunchStatus.NEEDS_REVIEW: ("journey.launch.needs_review", AuditEvent.Outcome.UNKNOWN),
}


def _audit_outcome(launch: Launch, **detail: object) -> None:
    """One audit event per launch outcome, bulk rows included: an auditor asks about a single journey.

    The launcher is the actor; Mint's trace id is that of the start's answer (its ``X-Trace-Id``) or of the
    refusal. Never the journey URL: it lets whoever holds it act as the end user.
    """
    action, outcome = _OUTCOME_EVENTS[launch.status]
    name = launch.workflow_name or launch.workflow_id
    row = f" (bulk row {launch.row_number})" if launch.bulk_id else ""
    # Mint's refusal may quote the input it refused: the trail keeps it with the input's personal values masked.
    error = ""
    if launch.error:
        error = InputMask.of(launch.input, fields=launch_fields(workflow_id=launch.workflow_id)).text(launch.error)
    summaries: dict[str, str] = {
        LaunchStatus.STARTED: f"Journey {launch.journey_id} of {name} started{row}",
        LaunchStatus.FAILED: f"Launch of {name} failed{row}: {error}",
        LaunchStatus.NEEDS_REVIEW: f"Launch of {name} needs review{row}: {error}",
    }
    context: dict[str, object] = {"launch_id": str(launch.id)}
    if launch.bulk_id:
        context.update(bulk_id=str(launch.bulk_id), row=launch.row_number)
    if error:
        context["error"] = error
    audit_record(
        actor=launch.created_by, action=action, outcome=outcome, workflow_id=launch.workflow_id,
        journey_id=launch.journey_id, summary=summaries[launch.status], detail={**context, **detail},
        trace_id=launch.trace_id,
    )


def _flag_abandoned(*, claimed_before: datetime) -> int:
    """Marks for review the launches still starting on a claim taken before ``claimed_before``; returns how many.

    Each is switched by its own conditional UPDATE (a worker reporting back at that moment keeps its outcome)
    and audited as needing review, in one transaction.
    """
    flagged = 0
    abandoned = Launch.objects.filter(status=LaunchStatus.STARTING, claimed_at__lt=claimed_before)
    for launch in abandoned.select_related("created_by")[:1000]:
        fields = {"status": LaunchStatus.NEEDS_REVIEW, "finished_at": timezone.now(), "error": _REVIEW_ABANDONED}
        with transaction.atomic():
            if not abandoned.filter(pk=launch.pk).update(**fields):
                continue
            for name, value in fields.items():
                setattr(launch, name, value)
            _audit_outcome(launch)
        flagged += 1
    return flagged


def _claim_lease() -> timedelta:
    """How long a claim lives without its worker renewing it; then the worker is presumed dead."""
    return timedelta(seconds=settings.LAUNCH_CLAIM_LEASE_SECONDS)


def _abandoned(launch: Launch) -> bool:
    return (
        launch.status == LaunchStatus.STARTING
        and launch.claimed_at is not None
        and launch.claimed_at < timezone.now() - _claim_lease()
    )


@contextmanager
def _claim_kept(launch_id: uuid.UUID) -> Iterator[None]:
    """Renews the claim on ``launch_id`` (its ``claimed_at``) every third of the lease while the block runs.

    A slow Mint call of a live worker thus never looks abandoned, and a dead worker's claim expires one lease
    after its last renewal. The renewing thread has its own database connection; it stops with the block and
    writes only while the launch is still starting.
    """
    stop = threading.Event()
    every = _claim_lease().total_seconds() / 3

    def renew() -> None:
        try:
            while not stop.wait(every):
                Launch.objects.filter(pk=launch_id, status=LaunchStatus.STARTING).update(claimed_at=timezone.now())
        except Exception:
            logger.exception("launch %s: could not renew the claim", launch_id)
        finally:
            connections.close_all()

    threading.Thread(target=renew, name=f"launch-claim-{launch_id}", daemon=True).start()
    try:
        yield
    finally:
        stop.set()


_REVIEW_ABANDONED: Final = (
    "The worker starting this journey stopped before recording Mint's answer. Check the workflow's recent "
    "journeys in Mint before launching again."
)


def launch_start(*, launch_id: uuid.UUID | str, final_attempt: bool = True, refresh_mirror: bool = True) -> Launch:
    """Starts the launch's journey in Mint unless it was already started or claimed; returns the launch.

    Claims the record (pending → starting) with a conditional UPDATE, so concurrent or repeated calls start
    at most one journey; the claim is renewed while Mint is called (``_claim_kept``). Outcomes: started
    (journey id, URL and URL expiry stored; with ``refresh_mirror`` the journey's mirror row is written),
    failed (Mint refused: message and trace id stored), needs review (``MintOutcomeUnknownError``, a success
    status with an unreadable answer, or a claim abandoned by a dead worker). A retryable refusal sets the
    launch back to pending with ``retry_at`` and raises ``LaunchRetryLater``, unless ``final_attempt`` or the
    launch has had ``MAX_ATTEMPTS``, which records it as failed.
    """
    now = timezone.now()
    claimed = _claim(launch_id, now)
    launch = Launch.objects.get(pk=launch_id)
    if not claimed:
        _review_if_abandoned(launch)
        return launch
    _start_claimed(launch, now, final_attempt=final_attempt, refresh_mirror=refresh_mirror)
    return launch


def _claim(launch_id: uuid.UUID | str, now: datetime) -> bool:
    """Takes a pending launch for this caller alone; False when it is not pending (any more)."""
    return bool(Launch.objects.filter(pk=launch_id, status=LaunchStatus.PENDING).update(
        status=LaunchStatus.STARTING, claimed_at=now, attempts=F("attempts") + 1
    ))


def _review_if_abandoned(launch: Launch) -> None:
    if _abandoned(launch):
        _finish(launch, LaunchStatus.NEEDS_REVIEW, error=_REVIEW_ABANDONED)


def _start_claimed(launch: Launch, now: datetime, *, final_attempt: bool, refresh_mirror: bool) -> None:
    """Calls Mint for a launch this caller has just claimed and records the outcome (see ``launch_start``)."""
    try:
        with _claim_kept(launch.id):
            started = get_client().start_journey(
                launch.workflow_id, input=launch.input or None, journey_url_ttl=launch.journey_url_ttl
            )
    except (errors.MintOutcomeUnknownError, errors.MintResponseError) as exc:
        # A success status with an answer the client cannot read may well have started the journey: failing
        # the launch would invite a second one.
        logger.warning("launch %s: outcome unknown (%s), marked for review", launch.id, exc.trace_id or "-")
        _finish(launch, LaunchStatus.NEEDS_REVIEW, error=str(exc)[:500], trace_id=exc.trace_id or "")
    except errors.MintError as exc:
        if exc.retryable and not final_attempt and launch.attempts < MAX_ATTEMPTS:
            countdown = retry_countdown(max(0, launch.attempts - 1), retry_after=exc.retry_after)
            Launch.objects.filter(pk=launch.id, status=LaunchStatus.STARTING).update(
                status=LaunchStatus.PENDING, claimed_at=None,
                retry_at=timezone.now() + timedelta(seconds=countdown),
            )
            raise LaunchRetryLater(exc, countdown=countdown) from exc
        logger.info("launch %s: Mint refused (%s, trace %s)", launch.id, type(exc).__name__, exc.trace_id or "-")
        _finish(launch, LaunchStatus.FAILED, error=str(exc)[:500], trace_id=exc.trace_id or "")
    else:
        _finish(
            launch, LaunchStatus.STARTED, journey_id=started.journey_id, journey_url=started.journey_url,
            journey_url_expires_at=now + timedelta(seconds=launch.journey_url_ttl), step_id=started.step_id or "",
            error="", trace_id=started.trace_id or "",
            retry_at=None, audit_detail={"step_id": started.step_id},
        )
        if refresh_mirror:
            _mirror_started(launch, started.journey_id)


def _mirror_started(launch: Launch, journey_id: str) -> None:
    """Writes a started journey's mirror row and the input it was launched with (Mint's detail has none, so the
    list's input filters such as ``customerNumber = …`` know it only from here).

    The journey did start whatever the refresh meets; the next sync mirrors it if this cannot (without the input).
    """
    journey_refresh_after_write(journey_id=journey_id)
    if launch.input:
        journey_input_record(journey_id=journey_id, input=launch.input)


def launch_recover(*, claimed_before: datetime) -> int:
    """Recovers launches after the only worker restarted on a broker that does not redeliver; returns how many.

    The embedded default's filesystem broker deletes a message when a worker fetches it, so whatever the
    previous worker held (a launch it was starting, retries it was waiting to run) is gone with it. With no
    other worker alive, a claim taken before ``claimed_before`` (this worker's start) is abandoned: needs
    review. Pending single launches are queued again, a waiting retry for when it falls due, and launching
    bulk launches get their chunks queued again. Queueing twice still starts each launch once.
    """
    now = timezone.now()
    acted = _flag_abandoned(claimed_before=claimed_before)
    pending = Launch.objects.filter(bulk__isnull=True, status=LaunchStatus.PENDING).values_list("id", "retry_at")
    for launch_id, retry_at in pending.iterator(chunk_size=1000):
        due = retry_at if retry_at is not None and retry_at > now else None
        _queue(LAUNCH_START_TASK, str(launch_id), eta=due)
        acted += 1
    for bulk_id in BulkLaunch.objects.filter(status=BulkLaunchStatus.LAUNCHING).values_list("id", flat=True):
        acted += _queue_chunks(bulk_id)
    return acted


def launch_requeue_stale() -> int:
    """Queues again launches whose task was lost, flags abandoned claims, finishes done bulk launches.

    Run by beat every 20 seconds; returns how many launches or bulk launches it acted on. Safe alongside
    running tasks, because queueing a launch twice starts it once:

    - a single launch still pending ``REQUEUE_AFTER`` after it was recorded (never attempted) or after its
      retry fell due (``retry_at``): its message was lost, e.g. Redis restarted without it;
    - a launching bulk launch with pending rows, no row claimed for ``REQUEUE_AFTER`` and no row waiting on a
      retry that is not yet ``REQUEUE_AFTER`` overdue;
    - a claim its worker has not renewed for the lease (``LAUNCH_CLAIM_LEASE_SECONDS``): the worker died
      mid-call, and the launch needs review.
    """
    now = timezone.now()
    acted = _flag_abandoned(claimed_before=now - _claim_lease())
    lost = now - REQUEUE_AFTER
    singles = Launch.objects.filter(bulk__isnull=True, status=LaunchStatus.PENDING).filter(
        Q(retry_at__isnull=True, created_at__lt=lost) | Q(retry_at__lt=lost)
    ).values_list("id", flat=True)[:1000]
    for launch_id in singles:
        _queue(LAUNCH_START_TASK, str(launch_id))
        acted += 1
    launching = BulkLaunch.objects.filter(status=BulkLaunchStatus.LAUNCHING, confirmed_at__lt=now - REQUEUE_AFTER)
    for bulk_id in launching.values_list("id", flat=True):
        if bulk_launch_finish_if_done(bulk_id=bulk_id):
            acted += 1
            continue
        last_claim = Launch.objects.filter(bulk_id=bulk_id).aggregate(last=Max("claimed_at"))["last"]
        # A row waiting on a retry that is not overdue means its chunk's retry message is still to come.
        waiting = Launch.objects.filter(bulk_id=bulk_id, status=LaunchStatus.PENDING, retry_at__gte=lost).exists()
        if (last_claim is None or last_claim < lost) and not waiting:
            acted += 1
            _queue_chunks(bulk_id)
    return acted


# --- bulk launches ----------------------------------------------------------------------------


def _csv_rows(file: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    """Decodes and parses the upload lazily, a line at a time (UTF-8, an optional BOM, any newline); yields each
    record with the number of the line it ends on.

    Bytes that are not UTF-8 come through as lone surrogates (``surrogateescape``), so that one such row is
    refused alone, by line and column (``_not_utf8``), instead of the whole file.
    """
    reader = codecs.getreader("utf-8-sig")(file, "surrogateescape")
    csv.field_size_limit(MAX_CELL_LENGTH)
    records = csv.reader(reader)
    for cells in records:
        yield records.line_num, cells


def _not_utf8(line: int, cell: str) -> str | None:
    """Where a cell holds bytes that are not UTF-8, in words; None when it is clean text."""
    bad = _UNDECODED.search(cell)
    if bad is None:
        return None
    return (f"Line {line}, character {bad.start() + 1} of this column is not UTF-8 "
            f"(byte 0x{ord(bad.group()) - 0xDC00:02X}): save the file as “CSV UTF-8” and upload this row again.")


def _row_launch(
    bulk: BulkLaunch, parameters: Sequence[str], header: Sequence[str], row_number: int, line: int, cells: list[str]
) -> Launch:
    columns = [*header, *["(row)"] * (len(cells) - len(header))]
    undecoded = [(column, message) for column, cell in zip(columns, cells, strict=False)
                 if (message := _not_utf8(line, cell))]
    # What is kept of the row is valid text (PostgreSQL refuses lone surrogates): each bad byte becomes U+FFFD.
    cells = [_UNDECODED.sub("\ufffd", cell) for cell in cells]
    values = dict(zip(header, cells, strict=False))
    problems = undecoded + input_errors(parameters=parameters, values=values)
    if len(cells) > len(header):
        problems.append(("(row)", f"Has {len(cells)} cells; the header has {len(header)}."))
    return Launch(
        key=f"bulk:{bulk.id}:{row_number}", workflow_id=bulk.workflow_id, workflow_name=bulk.workflow_name,
        input=clean_input(parameters=parameters, values=values), journey_url_ttl=bulk.journey_url_ttl,
        status=LaunchStatus.INVALID if problems else LaunchStatus.DRAFT, bulk=bulk, row_number=row_number,
        errors=[{"column": column, "message": message} for column, message in problems],
        created_by_id=bulk.created_by_id, created_at=bulk.created_at,
    )


def bulk_launch_upload(
    *,
    workflow_id: str,
    parameters: Sequence[str],
    file: IO[bytes],
    filename: str,
    journey_url_ttl: int,
    actor: User,
) -> BulkLaunch:
    """Validates an uploaded CSV row by row into a bulk launch waiting for confirmation; starts nothing.

    The first row is the header and must name exactly the workflow's input ``parameters``. Every other
    non-blank line becomes one ``Launch`` (draft, or invalid with its errors by column), numbered from 2 as
    in a spreadsheet. The file is read as a stream and stored in batches, so memory does not grow with it.
    A file-level problem (bad header, not UTF-8, too many rows) is recorded in ``file_errors``. All or
    nothing: an unexpected failure stores neither the upload nor any of its rows.
    """
    # One transaction: an upload that fails half-way (a database refusal) leaves no orphan behind.
    with transaction.atomic():
        now = timezone.now()
        bulk = BulkLaunch.objects.create(
            workflow_id=workflow_id, workflow_name=_workflow_name(workflow_id), filename=filename[:255],
            columns=list(parameters), journey_url_ttl=journey_url_ttl, created_by=actor, created_at=now,
        )
        rows = invalid = 0
        file_errors: list[str] = []
        try:
            lines = ((number, line, cells) for number, (line, cells) in enumerate(_csv_rows(file), start=1))
            header: list[str] = []
            header_line = 0
            for _, line, cells in lines:
                if any(cell.strip() for cell in cells):
                    header, header_line = [cell.strip() for cell in cells], line
                    break
            if any(_not_utf8(header_line, cell) for cell in header):
                file_errors = [
                    f"Line {header_line} (the header) is not UTF-8: save the file as “CSV UTF-8” and upload it again."
                ]
            else:
                file_errors = (header_errors(parameters=parameters, header=header) if header
                               else ["The file is empty."])
            if not file_errors:
                body = (
                    (number, line, cells) for number, line, cells in lines if any(cell.strip() for cell in cells)
                )
                while batch := list(islice(body, UPLOAD_BATCH)):
                    if rows + len(batch) > MAX_BULK_ROWS:
                        file_errors.append(f"The file has more than {MAX_BULK_ROWS} rows; split it.")
                        break
                    launches = [_row_launch(bulk, parameters, header, number, line, cells)
                                for number, line, cells in batch]
                    Launch.objects.bulk_create(launches)
                    rows += len(launches)
                    invalid += sum(1 for launch in launches if launch.status == LaunchStatus.INVALID)
        except csv.Error as exc:
            file_errors.append(f"The file is not valid CSV: {exc}.")
        if file_errors:
            Launch.objects.filter(bulk=bulk).delete()
            rows = invalid = 0
        BulkLaunch.objects.filter(pk=bulk.pk).update(row_count=rows, invalid_count=invalid, file_errors=file_errors)
        bulk.refresh_from_db()
        audit_record(
            actor=actor, action="journey.bulk_upload", workflow_id=workflow_id,
            outcome=AuditEvent.Outcome.FAILED if file_errors else AuditEvent.Outcome.OK,
            summary=f"Uploaded {bulk.filename or 'a CSV'}: {rows} rows, {invalid} invalid",
            detail={"bulk_id": str(bulk.id), "rows": rows, "invalid": invalid, "file_errors": file_errors[:5]},
        )
    return bulk


def _queue_chunks(bulk_id: uuid.UUID) -> int:
    """Queues one task per block of row numbers that still has pending rows; returns how many."""
    size = settings.BULK_LAUNCH_CHUNK_SIZE
    # Every row of a bulk launch has its number; only single launches have none.
    numbers = (
        Launch.objects.filter(bulk_id=bulk_id, status=LaunchStatus.PENDING, row_number__isnull=False)
        .order_by("row_number").values_list("row_number", flat=True).iterator(chunk_size=2000)
    )
    queued = 0
    last_block = None
    for number in numbers:
        block = (cast(int, number) - 2) // size
        if block == last_block:
            continue
        last_block = block
        first = 2 + block * size
        _queue(BULK_LAUNCH_CHUNK_TASK, str(bulk_id), first, first + size - 1)
        queued += 1
    return queued


def bulk_launch_confirm(*, bulk_id: uuid.UUID | str, actor: User) -> BulkLaunch:
    """Starts launching the valid rows of a validated bulk launch (once, however often it is confirmed).

    Invalid rows are skipped. The chunk tasks are queued after the transaction commits.
    """
    with transaction.atomic():
        now = timezone.now()
        switched = BulkLaunch.objects.filter(
            pk=bulk_id, status=BulkLaunchStatus.VALIDATED, file_errors=[], row_count__gt=F("invalid_count")
        ).update(status=BulkLaunchStatus.LAUNCHING, confirmed_at=now)
        bulk = BulkLaunch.objects.get(pk=bulk_id)
        if not switched:
            if bulk.status in (BulkLaunchStatus.LAUNCHING, BulkLaunchStatus.FINISHED):
                return bulk
            raise Conflict("This upload cannot be launched: it has no valid rows or was discarded.")
        pending = Launch.objects.filter(bulk=bulk, status=LaunchStatus.DRAFT).update(
            status=LaunchStatus.PENDING, created_at=now
        )
        audit_record(
            actor=actor, action="journey.bulk_launch", workflow_id=bulk.workflow_id,
            summary=f"Bulk launch of {pending} journeys of {bulk.workflow_name or bulk.workflow_id} confirmed",
            detail={"bulk_id": str(bulk.id), "rows": pending, "skipped_invalid": bulk.invalid_count},
        )
        _after_commit(lambda: _queue_chunks(bulk.id), f"bulk launch {bulk.id}")
    return bulk


def bulk_launch_discard(*, bulk_id: uuid.UUID | str, actor: User) -> BulkLaunch:
    """Drops a validated upload that the user decided not to launch."""
    with transaction.atomic():
        discarded = BulkLaunch.objects.filter(pk=bulk_id, status=BulkLaunchStatus.VALIDATED).update(
            status=BulkLaunchStatus.DISCARDED, finished_at=timezone.now()
        )
        bulk = BulkLaunch.objects.get(pk=bulk_id)
        if not discarded:
            raise Conflict("Only an upload that has not been launched can be discarded.")
        Launch.objects.filter(bulk=bulk, status=LaunchStatus.DRAFT).delete()
        audit_record(
            actor=actor, action="journey.bulk_discard", workflow_id=bulk.workflow_id,
            summary=f"Discarded upload {bulk.filename or bulk.id}", detail={"bulk_id": str(bulk.id)},
        )
    return bulk


def bulk_launch_run_chunk(
    *, bulk_id: uuid.UUID | str, first_row: int, last_row: int, final_attempt: bool = False
) -> int:
    """Starts the pending launches of rows ``first_row..last_row`` in order; returns how many it started.

    Rows already started, failed or claimed are skipped (the chunk may be delivered twice). A retryable
    refusal stops the chunk with ``LaunchRetryLater`` so the task retries it later; unless ``final_attempt``,
    which records that row as failed and goes on.
    """
    # One read for the chunk instead of one per row: a row's workflow, input and URL lifetime never change after
    # the upload, so the values read here are the ones a claim takes; each row is still claimed on its own.
    rows = list(
        Launch.objects.filter(
            bulk__pk=bulk_id, status=LaunchStatus.PENDING, row_number__gte=first_row, row_number__lte=last_row
        ).order_by("row_number")
    )
    started = 0
    for launch in rows:
        now = timezone.now()
        if not _claim(launch.id, now):
            # Claimed or finished by someone else since the read (a chunk delivered twice).
            _review_if_abandoned(Launch.objects.get(pk=launch.id))
            continue
        # The claim counted an attempt; the retry's backoff grows with it.
        launch.attempts += 1
        _start_claimed(launch, now, final_attempt=final_attempt, refresh_mirror=False)
        if launch.status == LaunchStatus.STARTED:
            started += 1
            # Only a row launched with an input needs its mirror row now, to keep that input; the rest reach the
            # mirror with the sync queued at the end. The sync would read these details anyway (never read yet).
            if launch.input:
                _mirror_started(launch, launch.journey_id)
    bulk_launch_finish_if_done(bulk_id=bulk_id)
    return started


def bulk_launch_finish_if_done(*, bulk_id: uuid.UUID | str) -> bool:
    """Marks a launching bulk launch finished when no row is pending or starting; returns whether it did.

    On finishing, an incremental journey sync is queued so that the new journeys reach the mirror.
    """
    busy = Launch.objects.filter(bulk__pk=bulk_id).filter(
        Q(status=LaunchStatus.PENDING) | Q(status=LaunchStatus.STARTING)
    ).exists()
    if busy:
        return False
    finished = BulkLaunch.objects.filter(pk=bulk_id, status=BulkLaunchStatus.LAUNCHING).update(
        status=BulkLaunchStatus.FINISHED, finished_at=timezone.now()
    )
    if finished:
        _after_commit(journey_sync_task.delay, "the journey sync")
    return bool(finished)
