"""Writes for bulk actions: the dry run recorded as a job, its confirmation, and the execution journey by journey.

Each journey is acted on by the single-journey service that the journey's own page uses, so its checks, its
once-only guarantees and its audit events apply unchanged: ``approvals.services.approval_decide`` (scope, N-of-M
votes, no self-approval, one decision), ``journeys.services.actions`` (continue, new URL),
``journeys.services.claims.claim_assign`` and ``journeys.services.notes``. This module adds only the bulk
bookkeeping:

- **at most once**: a chunk task takes each item with a conditional UPDATE (pending → running, with its run's
  token) before acting, and records the outcome only while it still holds it; a second delivery of the task finds
  nothing pending.
- **after a crash**: an item left running by a worker that died (its claim older than the lease, or taken before a
  restarted embedded worker started) is set to ``recheck``; its next run reads back what happened from the portal's
  records (decisions, votes, claims, the audit trail) and Mint, and acts only where nothing was done. A note or a
  new URL cannot be read back, so such an item ends "outcome unknown" instead of being repeated.
- **audit**: ``bulk.create`` (the dry run) and ``bulk.confirm``, besides each service's own event per journey.
- **the mirror**: approvals and rejections are decided with ``refresh_mirror=False`` (the same checks from the
  same one live read of each journey, but no mirror write per journey before and after Mint is told); the chunk
  then reads its decided journeys back from Mint a few at once and writes their mirror rows in one batch
  (``journey_mirror_refresh_many``). Per journey that is one read to check, one approve call and one read to
  refresh, and a few statements instead of two single-journey mirror writes.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from celery import signature
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from accounts.models import Action, AuditEvent
from accounts.policy import REFUSALS, user_can
from accounts.services import audit_record
from approvals.models import Decision
from approvals.services import DECISION_LEASE, DecisionFailed, Reconciled, approval_decide, decision_reconcile
from bulk.models import BulkAction, BulkItem, BulkJob, ItemStatus, JobStatus, Verdict
from bulk.selectors import NOT_VISIBLE, DryRun, Selection, bulk_dry_run
from journeys.claims_selectors import claim_get, claim_guard
from journeys.models import Journey
from journeys.services.actions import journey_read, journey_resume, journey_url_create
from journeys.services.claims import claim_assign
from journeys.services.mirror import journey_mirror_refresh_many
from journeys.services.notes import journey_note_create
from mintportal.errors import ApplicationError, NotAllowed
from mintportal.mint import errors, get_client
from mintportal.mint import models as mint

logger = logging.getLogger(__name__)

# bulk/tasks.py imports this module, so the task is queued by its registered name (the import goes one way only).
RUN_CHUNK_TASK: Final = "bulk.tasks.bulk_job_run_chunk_task"
CHECK_CHUNK_TASK: Final = "bulk.tasks.bulk_job_check_chunk_task"
# Selections up to this size are checked within the request; larger ones by chunk tasks of CHECK_CHUNK journeys.
INLINE_DRY_RUN: Final = 500
CHECK_CHUNK: Final = 250
INSERT_BATCH: Final = 1000


def chunk_size() -> int:
    """Items per chunk task: small enough for two workers to share a job, large enough to keep queueing cheap."""
    return int(settings.BULK_CHUNK_SIZE)


def claim_lease() -> timedelta:
    """How long an item may stay running before its worker is presumed dead (well above one Mint write's
    timeouts and retries)."""
    return timedelta(seconds=int(settings.BULK_CLAIM_LEASE_SECONDS))


def _queue_chunks(job_id: uuid.UUID, *, idle_before: datetime | None = None) -> int:
    """Queues one task per block of positions that still has items to run; returns how many. With ``idle_before``,
    only blocks where nothing was taken since then (their message was lost, or their worker died)."""
    size = chunk_size()
    waiting = (BulkItem.objects.filter(job_id=job_id, status__in=[ItemStatus.PENDING, ItemStatus.RECHECK])
               .values_list("position", flat=True).iterator(chunk_size=2000))
    blocks = sorted({position // size for position in waiting})
    if idle_before is not None:
        last: dict[int, datetime] = {}
        taken = BulkItem.objects.filter(job_id=job_id, claimed_at__isnull=False).values_list("position", "claimed_at")
        for position, claimed_at in taken.iterator(chunk_size=2000):
            block = position // size
            if claimed_at is not None and (block not in last or claimed_at > last[block]):
                last[block] = claimed_at
        confirmed_at = BulkJob.objects.filter(pk=job_id).values_list("confirmed_at", flat=True).first()
        blocks = [block for block in blocks if (last.get(block) or confirmed_at or idle_before) < idle_before]
    for block in blocks:
        signature(RUN_CHUNK_TASK, args=(str(job_id), block * size, block * size + size - 1)).apply_async()
    return len(blocks)


def _after_commit(queue: Callable[[], object], what: str) -> None:
    """Queues work once the records are committed. A broker outage leaves the job as it is and
    ``bulk_job_requeue_stale`` queues the work again."""

    def run() -> None:
        try:
            queue()
        except Exception:
            logger.exception("could not queue %s; the periodic requeue will pick it up", what)

    transaction.on_commit(run)


def _audit_params(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of the parameters: never a note's text, the answers' values or the reason (free
    text that may name any of the journeys; each journey's own decision event keeps it, masked for that journey)."""
    kept: dict[str, Any] = {key: params[key] for key in ("step_id", "assignee", "time_to_live") if key in params}
    if "answers" in params:
        kept["answer_keys"] = sorted(params["answers"])
    if "reason" in params:
        kept["reason_length"] = len(params["reason"])
    if "content" in params:
        kept["note_length"] = len(params["content"])
    return kept


def _verdict(dry: DryRun) -> dict[str, Any]:
    """An item's dry-run fields. The name is kept masked (``DryRun.name``), and not at all for a journey the user
    may not view."""
    visible = bool(dry.name) or (dry.row is not None and dry.check.refusal != NOT_VISIBLE)
    return {"journey_name": dry.name,
            "workflow_id": dry.row.workflow_id if visible and dry.row is not None else "",
            "step_id": dry.check.step_id, "verdict": dry.check.verdict, "reason": dry.check.refusal[:500]}


def bulk_job_create(*, user: AbstractBaseUser, action: str, params: Mapping[str, Any], selection: Selection,
                    key: str) -> BulkJob:
    """Records a bulk action over the selection as a job with one item per journey and runs its dry run: each
    item's verdict and reason, acting on nothing. Up to ``INLINE_DRY_RUN`` journeys are checked here (the job is a
    draft when this returns); a larger selection is checked by chunk tasks (the job is ``checking`` until they are
    done), so that a request never waits on ten thousand checks. The same ``key`` from the same user returns the
    job made first (a double-submitted form). Audited as ``bulk.create``."""
    existing = BulkJob.objects.filter(created_by_id=user.pk, key=key).first()
    if existing is not None:
        return existing
    total = len(selection.journey_ids)
    inline = total <= INLINE_DRY_RUN
    try:
        with transaction.atomic():
            job = BulkJob.objects.create(
                created_by_id=user.pk, key=key, action=action, params=dict(params), total=total,
                selection=selection.description[:500], created_at=timezone.now(),
                status=JobStatus.DRAFT if inline else JobStatus.CHECKING)
            will_act = _create_items(job, user=user, selection=selection, inline=inline)
            summary = (f"Dry run of “{BulkAction(action).label}” on {total} journeys: {will_act} will act, "
                       f"{total - will_act} refused" if inline
                       else f"Dry run of “{BulkAction(action).label}” on {total} journeys started")
            audit_record(actor=user, action="bulk.create", summary=summary,
                         detail={"job_id": str(job.id), "action": action, "selection": selection.description,
                                 "journeys": total, **({"will_act": will_act} if inline else {}),
                                 **_audit_params(action, params)})
            if not inline:
                _after_commit(lambda: _queue_checks(job.id), f"the dry run of bulk job {job.id}")
    except IntegrityError:
        # The same form submitted twice at once: the other request made the job.
        return BulkJob.objects.get(created_by_id=user.pk, key=key)
    job.refresh_from_db()
    return job


def _create_items(job: BulkJob, *, user: AbstractBaseUser, selection: Selection, inline: bool) -> int:
    """Writes the job's items in batches, checked (``inline``) or to be checked; returns how many will act."""
    batch: list[BulkItem] = []
    will_act = 0
    if inline:
        checks = bulk_dry_run(user=user, action=job.action, params=job.params, journey_ids=selection.journey_ids)
        for position, dry in enumerate(checks):
            will_act += dry.check.verdict == Verdict.WILL_ACT
            batch.append(BulkItem(job=job, position=position, journey_id=dry.journey_id, **_verdict(dry)))
    else:
        batch = [BulkItem(job=job, position=position, journey_id=journey_id, verdict=Verdict.CHECKING)
                 for position, journey_id in enumerate(selection.journey_ids)]
    BulkItem.objects.bulk_create(batch, batch_size=INSERT_BATCH)
    if inline:
        BulkJob.objects.filter(pk=job.pk).update(will_act=will_act)
    return will_act


def _queue_checks(job_id: uuid.UUID) -> int:
    """Queues one dry-run task per block of positions still to be checked; returns how many."""
    size = CHECK_CHUNK
    positions = (BulkItem.objects.filter(job_id=job_id, verdict=Verdict.CHECKING)
                 .values_list("position", flat=True).iterator(chunk_size=2000))
    blocks = sorted({position // size for position in positions})
    for block in blocks:
        signature(CHECK_CHUNK_TASK, args=(str(job_id), block * size, block * size + size - 1)).apply_async()
    return len(blocks)


def bulk_job_check_chunk(*, job_id: uuid.UUID, first: int, last: int) -> int:
    """Runs the dry run for the unchecked items at positions ``first..last`` of a job being checked; returns how
    many it checked. Checks only read, so a block checked twice (a message delivered again) comes to the same.
    The job becomes a draft when its last item is checked."""
    job = BulkJob.objects.filter(pk=job_id, status=JobStatus.CHECKING).first()
    if job is None:
        return 0
    user = User.objects.get(pk=job.created_by_id)
    items = list(BulkItem.objects.filter(job=job, position__gte=first, position__lte=last,
                                         verdict=Verdict.CHECKING).order_by("position"))
    checks = bulk_dry_run(user=user, action=job.action, params=job.params,
                          journey_ids=[item.journey_id for item in items])
    checked = 0
    for item, dry in zip(items, checks, strict=True):
        checked += BulkItem.objects.filter(pk=item.pk, verdict=Verdict.CHECKING).update(**_verdict(dry))
    bulk_job_check_finish_if_done(job_id=job.id)
    return checked


def bulk_job_check_finish_if_done(*, job_id: uuid.UUID) -> bool:
    """Makes a job being checked a draft once every item has its verdict."""
    if BulkItem.objects.filter(job_id=job_id, verdict=Verdict.CHECKING).exists():
        return False
    will_act = BulkItem.objects.filter(job_id=job_id, verdict=Verdict.WILL_ACT).count()
    return bool(BulkJob.objects.filter(pk=job_id, status=JobStatus.CHECKING).update(
        status=JobStatus.DRAFT, will_act=will_act))


def bulk_job_confirm(*, user: AbstractBaseUser, job_id: uuid.UUID) -> BulkJob:
    """Starts a draft job (once, however often it is confirmed): its will-act items become pending and chunk
    tasks are queued when the transaction commits. Only the job's creator may confirm it (``NotAllowed``).
    Audited as ``bulk.confirm``."""
    with transaction.atomic():
        job = BulkJob.objects.get(pk=job_id)
        if job.created_by_id != user.pk:
            raise NotAllowed("Only the person who prepared this bulk action may confirm it.")
        now = timezone.now()
        switched = BulkJob.objects.filter(pk=job.pk, status=JobStatus.DRAFT).update(
            status=JobStatus.RUNNING, confirmed_at=now)
        if not switched:
            job.refresh_from_db()
            return job
        pending = BulkItem.objects.filter(job=job, verdict=Verdict.WILL_ACT).update(status=ItemStatus.PENDING)
        audit_record(
            actor=user, action="bulk.confirm",
            summary=f"Confirmed “{job.get_action_display()}” on {pending} journeys",
            detail={"job_id": str(job.id), "action": job.action, "journeys": pending,
                    "refused_in_dry_run": job.total - pending},
        )
        if pending:
            _after_commit(lambda: _queue_chunks(job.id), f"bulk job {job.id}")
        else:
            BulkJob.objects.filter(pk=job.pk).update(status=JobStatus.FINISHED, finished_at=now)
    job.refresh_from_db()
    return job


# --- the execution ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str
    message: str
    journey_url: str = ""
    expires_at: datetime | None = None


def _guarded(user: User, item: BulkItem) -> None:
    # What the single-journey pages ask a person to confirm; a bulk action never acts over someone else's claim.
    claim_guard(user=user, journey_id=item.journey_id, acknowledged=False)


def _decide(job: BulkJob, user: User, item: BulkItem, stale: list[str] | None) -> Outcome:
    _guarded(user, item)
    try:
        result = approval_decide(user=user, journey_id=item.journey_id, step_id=item.step_id,
                                 approved=job.action == BulkAction.APPROVE, reason=job.params.get("reason", ""),
                                 refresh_mirror=stale is None)
    finally:
        # Decided or refused after its live read, the journey's mirror row was left to the chunk's batch refresh.
        if stale is not None:
            stale.append(item.journey_id)
    return Outcome(ItemStatus.DONE, result.message)


def _continue(job: BulkJob, user: User, item: BulkItem, stale: list[str] | None) -> Outcome:
    _guarded(user, item)
    journey_resume(actor=user, journey_id=item.journey_id, step_id=item.step_id,
                   answers=job.params.get("answers") or {})
    return Outcome(ItemStatus.DONE, f"Continued step {item.step_id}.")


def _assign(job: BulkJob, user: User, item: BulkItem, stale: list[str] | None) -> Outcome:
    claim = claim_assign(actor=user, journey_id=item.journey_id, assignee_id=int(job.params["assignee_id"]))
    holder = claim.claim.user.get_username() if claim.claim is not None else job.params.get("assignee", "")
    return Outcome(ItemStatus.DONE, f"Assigned to {holder}." if claim.changed else f"Already held by {holder}.")


def _url(job: BulkJob, user: User, item: BulkItem, stale: list[str] | None) -> Outcome:
    shared = journey_url_create(actor=user, journey_id=item.journey_id, time_to_live=int(job.params["time_to_live"]))
    return Outcome(ItemStatus.DONE, "New journey URL created.", journey_url=shared.url, expires_at=shared.expires_at)


def _note(job: BulkJob, user: User, item: BulkItem, stale: list[str] | None) -> Outcome:
    # The note service leaves the rights to its caller (the journey page's view checks ANNOTATE): checked again
    # here, now, on the journey's workflow.
    if not user_can(user=user, action=Action.VIEW, workflow_id=item.workflow_id):
        return Outcome(ItemStatus.REFUSED, NOT_VISIBLE)
    if not user_can(user=user, action=Action.ANNOTATE, workflow_id=item.workflow_id):
        return Outcome(ItemStatus.REFUSED, REFUSALS[Action.ANNOTATE])
    journey_note_create(actor=user, journey_id=item.journey_id, workflow_id=item.workflow_id,
                        content=str(job.params.get("content", "")))
    return Outcome(ItemStatus.DONE, "Note added.")


# Each action's call of its single-journey service. ``stale``, when given, collects the journeys whose mirror rows
# the service left to the chunk's batch refresh (decisions only; the other services refresh their own).
_PERFORM: Final[dict[str, Callable[[BulkJob, User, BulkItem, list[str] | None], Outcome]]] = {
    BulkAction.APPROVE: _decide, BulkAction.REJECT: _decide, BulkAction.CONTINUE: _continue,
    BulkAction.ASSIGN: _assign, BulkAction.URL: _url, BulkAction.NOTE: _note,
}


def _act(job: BulkJob, user: User, item: BulkItem, stale: list[str] | None = None) -> Outcome:
    """Calls the single-journey service for one item; its refusals and Mint's answers become the outcome."""
    try:
        return _PERFORM[job.action](job, user, item, stale)
    except DecisionFailed as exc:
        return Outcome(ItemStatus.FAILED, exc.message)
    except ApplicationError as exc:
        return Outcome(ItemStatus.REFUSED, exc.message)
    except errors.MintOutcomeUnknownError as exc:
        return Outcome(ItemStatus.UNKNOWN, f"Mint did not confirm it (trace {exc.trace_id or '-'}); check the journey.")
    except errors.MintError as exc:
        return Outcome(ItemStatus.FAILED, f"Mint refused: {exc.message}"[:500])


# The audit action each action's service records per journey, for reading back what happened before a crash.
_AUDITED: Final = {
    BulkAction.APPROVE: "journey.approve", BulkAction.REJECT: "journey.reject", BulkAction.CONTINUE: "journey.resume",
    BulkAction.ASSIGN: "journey.assign", BulkAction.URL: "journey.url_create", BulkAction.NOTE: "note.create",
}


def _recorded(job: BulkJob, item: BulkItem, since: datetime) -> AuditEvent | None:
    """The service's audit event for this journey by the job's creator since the crashed run took the item."""
    return (AuditEvent.objects.filter(actor_id=job.created_by_id, action=_AUDITED[BulkAction(job.action)],
                                      journey_id=item.journey_id, at__gte=since).order_by("-id").first())


def _from_audit(event: AuditEvent) -> Outcome | None:
    """The outcome an audit event written before the crash settles, or None when it says nothing was done."""
    if event.outcome == AuditEvent.Outcome.OK:
        return Outcome(ItemStatus.DONE, f"Done before the crash: {event.summary}"[:500])
    if event.outcome == AuditEvent.Outcome.REFUSED:
        return Outcome(ItemStatus.REFUSED, f"Refused before the crash: {event.summary}"[:500])
    if event.outcome == AuditEvent.Outcome.FAILED:
        return Outcome(ItemStatus.FAILED, f"Failed before the crash: {event.summary}"[:500])
    return Outcome(ItemStatus.UNKNOWN, f"Mint did not confirm it before the crash: {event.summary}"[:500])


def _still_waits(item: BulkItem) -> bool | None:
    """Whether Mint says the item's step still waits (None when Mint cannot say now)."""
    try:
        journey = journey_read(item.journey_id)
    except (errors.MintError, ApplicationError):
        return None
    return any(step.step_id == item.step_id for step in journey.active_steps)


def _recheck_decision(job: BulkJob, user: User, item: BulkItem, since: datetime) -> Outcome | None:
    decision = Decision.objects.filter(journey_id=item.journey_id, step_id=item.step_id, decided_by_id=user.pk,
                                       decided_at__gte=since).order_by("-decided_at").first()
    if decision is not None:
        if decision.status == Decision.Status.SENT:
            return Outcome(ItemStatus.DONE, "Done before the crash: the decision reached Mint.")
        if decision.decided_at < timezone.now() - DECISION_LEASE:
            # Past the decision's own lease nothing can still be sending it: settle the row with Mint.
            found = decision_reconcile(decision=decision)
            if found == Reconciled.CONFIRMED:
                return Outcome(ItemStatus.DONE, "Done before the crash: Mint had the decision (confirmed late).")
            if found == Reconciled.RELEASED:
                # Mint never got it and the row is gone: deciding again is the first decision Mint hears.
                return None
        waits = _still_waits(item)
        if waits is False:
            return Outcome(ItemStatus.DONE, "Done before the crash: the approval step no longer waits.")
        return Outcome(ItemStatus.UNKNOWN, "The decision was being sent to Mint when the worker stopped; "
                                           "open the journey to see whether it moved on.")
    event = _recorded(job, item, since)
    # Nothing decided yet, perhaps a vote recorded: acting again is safe, as approval_decide counts a person's vote
    # once and, where that vote is enough, makes the one decision it did not get to make.
    return _from_audit(event) if event is not None else None


def _recheck(job: BulkJob, user: User, item: BulkItem, since: datetime, stale: list[str] | None) -> Outcome:
    """The outcome of an item a dead worker held: read back where possible, acted on only where nothing was done."""
    found: Outcome | None
    if job.action in (BulkAction.APPROVE, BulkAction.REJECT):
        found = _recheck_decision(job, user, item, since)
    elif job.action == BulkAction.ASSIGN:
        claim = claim_get(journey_id=item.journey_id)
        found = (Outcome(ItemStatus.DONE, f"Done before the crash: held by {claim.user.get_username()}.")
                 if claim is not None and claim.user_id == int(job.params["assignee_id"]) else None)
    else:
        event = _recorded(job, item, since)
        found = _from_audit(event) if event is not None else None
        if found is None and job.action == BulkAction.CONTINUE:
            waits = _still_waits(item)
            if waits is None:
                found = Outcome(ItemStatus.UNKNOWN, "The worker stopped while continuing the step and Mint cannot "
                                                    "say now whether it moved on; check the journey.")
            elif not waits:
                found = Outcome(ItemStatus.DONE, "Done before the crash: the step no longer waits.")
        elif found is None:
            what = "the note" if job.action == BulkAction.NOTE else "the journey URL"
            found = Outcome(ItemStatus.UNKNOWN, f"The worker stopped while creating {what}; whether Mint made it "
                                                "cannot be read back, so it was not repeated.")
    if job.action == BulkAction.URL and found is not None and found.status == ItemStatus.DONE:
        # The link itself was never recorded, so it cannot be handed out.
        found = Outcome(ItemStatus.UNKNOWN, "A journey URL was created before the crash but its link was lost; "
                                            "create another one for this journey.")
    if found is not None:
        return found
    acted = _act(job, user, item, stale)
    return Outcome(acted.status, f"Checked after a crash, then acted: {acted.message}"[:500], acted.journey_url,
                   acted.expires_at)


def _take(item: BulkItem, *, token: str, now: datetime) -> tuple[bool, datetime | None]:
    """Claims a pending or re-check item for this run; (claimed, when the crashed run took it for a re-check)."""
    since = item.claimed_at
    taken = BulkItem.objects.filter(pk=item.pk, status=item.status, token=item.token).update(
        status=ItemStatus.RUNNING, token=token, claimed_at=now)
    return bool(taken), since


def _record(item: BulkItem, *, token: str, outcome: Outcome) -> bool:
    """Writes the outcome while this run still holds the item (a re-check set meanwhile keeps the token)."""
    return bool(BulkItem.objects.filter(
        pk=item.pk, token=token, status__in=[ItemStatus.RUNNING, ItemStatus.RECHECK]
    ).update(status=outcome.status, outcome=outcome.message[:500], journey_url=outcome.journey_url,
             expires_at=outcome.expires_at, finished_at=timezone.now()))


def bulk_item_run(*, job: BulkJob, user: User, item: BulkItem, token: str,
                  stale: list[str] | None = None) -> str | None:
    """Runs one item of a running job unless another run holds or finished it; returns its final status (None
    when it was not this run's to do). With ``stale``, a decision leaves the journey's mirror row to the caller,
    adding its id there (see the module's docstring)."""
    if item.status not in (ItemStatus.PENDING, ItemStatus.RECHECK):
        return None
    recheck = item.status == ItemStatus.RECHECK
    taken, since = _take(item, token=token, now=timezone.now())
    if not taken:
        return None
    try:
        if recheck:
            outcome = _recheck(job, user, item, since or job.confirmed_at or job.created_at, stale)
        else:
            outcome = _act(job, user, item, stale)
    except Exception:
        # A failure the services did not turn into a refusal: whether it acted cannot be known from here.
        logger.exception("bulk job %s: journey %s failed unexpectedly", job.id, item.journey_id)
        outcome = Outcome(ItemStatus.UNKNOWN, "An unexpected error stopped this journey's action; check the journey.")
    if not _record(item, token=token, outcome=outcome):
        logger.warning("bulk job %s: journey %s changed hands before its outcome was recorded", job.id,
                       item.journey_id)
        return None
    return outcome.status


def threads() -> int:
    """Items one chunk task runs at once: each waits mostly on Mint and PostgreSQL, so a few overlap well. One on
    SQLite (the embedded default), whose writers take turns anyway."""
    if connection.vendor == "sqlite":
        return 1
    return max(1, int(settings.BULK_THREADS))


def _run_slice(job: BulkJob, user: User, items: list[BulkItem], token: str,
               on_item: Callable[[BulkItem], None] | None, stale: list[str]) -> int:
    recorded = 0
    try:
        for item in items:
            if on_item is not None:
                on_item(item)
            recorded += bulk_item_run(job=job, user=user, item=item, token=token, stale=stale) is not None
    finally:
        # Each thread has its own database connection; the pool's threads end with the chunk.
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()
    return recorded


def bulk_job_run_chunk(*, job_id: uuid.UUID, first: int, last: int,
                       on_item: Callable[[BulkItem], None] | None = None) -> int:
    """Runs the pending and re-check items at positions ``first..last`` of a running job as the job's creator, up
    to ``BULK_THREADS`` at once; returns how many this run recorded. Safe to run twice or concurrently (see the
    module's docstring). ``on_item`` is called before each item is taken (tests use it to stop a run mid-way)."""
    job = BulkJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).first()
    if job is None:
        return 0
    user = User.objects.get(pk=job.created_by_id)
    token = uuid.uuid4().hex
    items = list(BulkItem.objects.filter(job=job, position__gte=first, position__lte=last,
                                         status__in=[ItemStatus.PENDING, ItemStatus.RECHECK]).order_by("position"))
    count = min(threads(), len(items))
    # Appended to by every thread (list.append is atomic); read once they have all finished.
    stale: list[str] = []
    try:
        if count <= 1:
            recorded = _run_slice(job, user, items, token, on_item, stale)
        else:
            # Every thread a fresh user object: the access policy memoises on it, and the threads must not share
            # that.
            with ThreadPoolExecutor(count, thread_name_prefix=f"bulk-{job.id}") as pool:
                recorded = sum(pool.map(
                    lambda index: _run_slice(job, User.objects.get(pk=job.created_by_id), items[index::count],
                                             token, on_item, stale),
                    range(count)))
    finally:
        # Also when the run stops part-way: what it decided is in Mint, and the lists should say so.
        bulk_mirror_refresh(journey_ids=stale)
    bulk_job_finish_if_done(job_id=job.id)
    return recorded


def bulk_mirror_refresh(*, journey_ids: list[str]) -> int:
    """Reads the journeys from Mint, up to ``BULK_THREADS`` at once, and writes their mirror rows in one batch
    (``journey_mirror_refresh_many``); returns how many it wrote. A journey Mint cannot return now is marked stale
    (``detail_seen_at`` cleared) so that the next view or sync reads it again, as after a single write; the
    writes to Mint stand whatever happens here."""
    wanted = list(dict.fromkeys(journey_ids))
    if not wanted:
        return 0
    client = get_client()

    def read(journey_id: str) -> mint.JourneyDetail | None:
        try:
            return client.get_journey(journey_id)
        except errors.MintError as exc:
            logger.warning("could not refresh journey %s after a bulk decision: %s trace_id=%s",
                           journey_id, type(exc).__name__, exc.trace_id or "-")
            return None

    with ThreadPoolExecutor(min(threads(), len(wanted)), thread_name_prefix="bulk-refresh") as pool:
        details = list(pool.map(read, wanted))
    read_back = [detail for detail in details if detail is not None]
    missing = [journey_id for journey_id, detail in zip(wanted, details, strict=True) if detail is None]
    if missing:
        Journey.objects.filter(pk__in=missing).update(detail_seen_at=None)
    journey_mirror_refresh_many(journeys=read_back)
    return len(read_back)


def bulk_job_finish_if_done(*, job_id: uuid.UUID) -> bool:
    """Marks a running job finished once no item is pending, running or waiting for a re-check."""
    busy = BulkItem.objects.filter(job_id=job_id, status__in=[ItemStatus.PENDING, ItemStatus.RUNNING,
                                                              ItemStatus.RECHECK]).exists()
    if busy:
        return False
    return bool(BulkJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.FINISHED, finished_at=timezone.now()))


def _flag_for_recheck(*, claimed_before: datetime) -> int:
    # The token stays, so a live worker that was merely slow still records its own outcome.
    return BulkItem.objects.filter(job__status=JobStatus.RUNNING, status=ItemStatus.RUNNING,
                                   claimed_at__lt=claimed_before).update(status=ItemStatus.RECHECK)


def bulk_job_requeue_stale() -> int:
    """Beat: flags items whose worker died (running past the lease) for a re-check, and queues again the blocks
    of running jobs where nothing was taken for a lease (their messages were lost, or their worker died; Redis
    redelivers an unacknowledged message only after its visibility timeout). Returns how many jobs it queued or
    finished. Safe alongside running tasks: an item is taken once however often it is queued."""
    now = timezone.now()
    stale = now - claim_lease()
    _flag_for_recheck(claimed_before=stale)
    acted = 0
    # A dry run still not done a lease after it started lost a message (or its worker): checking again is harmless.
    for job_id in BulkJob.objects.filter(status=JobStatus.CHECKING, created_at__lt=stale).values_list("id", flat=True):
        if not bulk_job_check_finish_if_done(job_id=job_id):
            acted += bool(_queue_checks(job_id))
    for job_id in BulkJob.objects.filter(status=JobStatus.RUNNING).values_list("id", flat=True):
        if bulk_job_finish_if_done(job_id=job_id):
            acted += 1
            continue
        acted += bool(_queue_chunks(job_id, idle_before=stale))
    return acted


def bulk_job_recover(*, claimed_before: datetime) -> int:
    """For the only worker, restarted (the embedded default's filesystem broker deletes what a worker fetched, so
    a killed worker's messages are gone): every item it was running is flagged for a re-check and every running
    job's chunks are queued again. Returns how many chunks it queued."""
    _flag_for_recheck(claimed_before=claimed_before)
    queued = 0
    for job_id in BulkJob.objects.filter(status=JobStatus.CHECKING).values_list("id", flat=True):
        queued += _queue_checks(job_id)
    for job_id in BulkJob.objects.filter(status=JobStatus.RUNNING).values_list("id", flat=True):
        if not bulk_job_finish_if_done(job_id=job_id):
            queued += _queue_chunks(job_id)
    return queued
