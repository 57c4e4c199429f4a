"""Deciding approvals: four-eyes rules, one decision per approval step, and the audit record of each.

``approval_decide`` is the only way the portal approves or rejects a journey. Its guarantees:

- **Scope.** The user needs APPROVE on the journey's workflow (404 when they may not even view it).
- **Four-eyes.** The scopes that give the user APPROVE there set the rules (the strictest when several
  do): a launcher may not approve their own journey, and N distinct approvers may be required. Each
  approval is recorded as an ``ApprovalVote``; Mint hears the decision only when the N-th distinct
  approver approves. A rejection by anyone allowed to decide rejects at once.
- **Once.** A ``Decision`` row, unique per journey, step and occurrence, is committed *before* Mint is
  called, so of two people deciding at once (or one double-clicking) exactly one calls Mint; the other
  gets ``AlreadyDecided`` ("already decided by … at …"). If Mint refuses, the row is deleted and the
  approval can be decided again.
- **Audit.** Each counted approval vote is an event of its own (``journey.approve.vote``: step, occurrence,
  n of the required), also when it is the N-th or its request then loses the race to decide. Each decision
  records one more (``journey.approve`` / ``journey.reject``): ``ok`` when Mint was told, ``refused`` when a
  rule stopped it, ``failed`` or ``unknown`` with Mint's trace id when Mint refused or did not confirm. A
  request that counts and decides nothing (a repeated click, the loser of a race before voting) records none.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import Action, AuditEvent
from accounts.policy import approval_rules, ensure_can
from accounts.services import audit_record
from approvals.models import ApprovalVote, Decision
from approvals.selectors import (
    PAGE_SIZE,
    InboxFilters,
    approval_occurrence,
    journey_launcher_id,
    journeys_needing_detail,
)
from journeys.models import APPROVAL_STEP, Journey
from journeys.services.mirror import journey_mirror_refresh
from journeys.services.sync import journey_refresh
from mintportal.mint import errors, get_client
from mintportal.mint import models as mint

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 1000
# Seconds an inbox view may spend reading stale journey details from Mint before it renders what it has.
INBOX_REFRESH_BUDGET = 2.0


class ApprovalRefused(Exception):
    """A decision the portal will not make; ``message`` says why in words the user can act on, ``status``
    is the HTTP status it means (409 when the approval is no longer open, 400 otherwise)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AlreadyDecided(ApprovalRefused):
    """Someone (possibly the same user, a moment ago) has already decided this approval."""

    def __init__(self, *, decided_by: str, decided_at: datetime, approved: bool) -> None:
        when = timezone.localtime(decided_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        super().__init__(f"Already decided by {decided_by} at {when}.", status=409)
        self.decided_by = decided_by
        self.decided_at = decided_at
        self.approved = approved


class DecisionFailed(ApprovalRefused):
    """Mint did not accept the decision; nothing was decided and the user may try again."""

    def __init__(self, message: str, *, trace_id: str) -> None:
        super().__init__(message)
        self.trace_id = trace_id


@dataclass(frozen=True)
class DecisionResult:
    """What a decision did: ``sent`` when Mint was told, else the approval was recorded and more are needed."""

    sent: bool
    approved: bool
    approvals: int
    required: int
    message: str


# The audit action of one counted approval vote; the decision it may lead to is journey.approve.
VOTE_ACTION = "journey.approve.vote"


def _audit_action(approved: bool) -> str:
    return "journey.approve" if approved else "journey.reject"


def _already_decided(decision: Decision) -> AlreadyDecided:
    return AlreadyDecided(
        decided_by=decision.decided_by_username, decided_at=decision.decided_at, approved=decision.approved
    )


def _read_journey(journey_id: str) -> mint.JourneyDetail:
    try:
        return get_client().get_journey(journey_id)
    except errors.MintNotFoundError:
        raise Http404("Not found") from None


def _mint_message(*, approved: bool, approvers: list[str], reason: str) -> str:
    verdict = f"Approved by {', '.join(approvers)}" if approved else f"Rejected by {approvers[0]}"
    return f"{verdict}: {reason}" if reason else verdict


def _refresh_mirror(journey_id: str) -> None:
    """Reads the decided journey back so the inbox and lists stop showing it as waiting for approval."""
    try:
        journey_refresh(journey_id=journey_id)
    except errors.MintError as exc:
        # The decision stands; mark the row stale so the next inbox view reads the detail again.
        logger.warning("journey %s: mirror refresh after decision failed: %s", journey_id, exc)
        Journey.objects.filter(pk=journey_id).update(detail_seen_at=None)


def _step_refusal(*, journey: mint.JourneyDetail, step_id: str) -> ApprovalRefused | None:
    """Why ``step_id`` of the journey as Mint describes it now cannot be decided, or None when it can.

    The page offers decisions only for waiting approval steps, but a request may name any step: an end
    user's eID login or form must never be completed by an approver's click.
    """
    waiting = {step.step_id: step.step_type for step in journey.active_steps}
    if step_id not in waiting:
        return ApprovalRefused("This journey is not waiting for this approval any more.", status=409)
    if waiting[step_id] != APPROVAL_STEP:
        return ApprovalRefused(f"Step “{step_id}” ({waiting[step_id]}) is not an approval step; "
                               "only approval steps can be approved or rejected.")
    return None


def approval_decide(
    *,
    user: AbstractBaseUser,
    journey_id: str,
    step_id: str,
    approved: bool,
    reason: str = "",
    occurrence: int | None = None,
) -> DecisionResult:
    """Approves or rejects the journey's waiting ``require-approval`` step ``step_id`` as ``user``.

    ``reason`` is required to reject. ``occurrence`` is the occurrence the user saw when they chose (from
    ``approval_occurrence``); a stale one means someone has decided since, and raises ``AlreadyDecided``.
    Raises Http404 / PermissionDenied (scope), ``ApprovalRefused`` (a rule or the journey's state forbids
    it), ``AlreadyDecided``, ``DecisionFailed`` (Mint refused; the approval stays open). Reads the journey
    from Mint, writes the mirror row, votes, the decision and one audit event as described in the module.
    """
    reason = reason.strip()
    if not approved and not reason:
        raise ApprovalRefused("A reason is required to reject.")
    if len(reason) > REASON_MAX_LENGTH:
        raise ApprovalRefused(f"The reason may have at most {REASON_MAX_LENGTH} characters.")

    # The scope check comes first, from the mirror when it knows the journey, so that nothing below
    # (not even "already decided") is revealed to someone outside the journey's scope.
    workflow_id = Journey.objects.filter(pk=journey_id).values_list("workflow_id", flat=True).first()
    journey: mint.JourneyDetail | None = None
    if workflow_id is None:
        journey = _read_journey(journey_id)
        workflow_id = journey.workflow_id
    ensure_can(user=user, action=Action.APPROVE, workflow_id=workflow_id)

    current = approval_occurrence(journey_id=journey_id, step_id=step_id)
    if occurrence is not None and occurrence < current:
        decided = Decision.objects.filter(journey_id=journey_id, step_id=step_id, occurrence=occurrence).first()
        if decided is not None:
            raise _already_decided(decided)
    if occurrence is not None and occurrence > current:
        audit_record(actor=user, action=_audit_action(approved), outcome=AuditEvent.Outcome.REFUSED,
                     workflow_id=workflow_id, journey_id=journey_id,
                     summary="Refused: the approval named is not open for decision",
                     detail={"step_id": step_id, "occurrence": occurrence, "current": current})
        raise ApprovalRefused("This approval is not open for decision; reload the page.", status=409)
    in_flight = Decision.objects.filter(journey_id=journey_id, step_id=step_id, occurrence=current).first()
    if in_flight is not None:
        raise _already_decided(in_flight)

    journey = journey or _read_journey(journey_id)
    journey_mirror_refresh(journey=journey)
    audit_common = {"actor": user, "workflow_id": workflow_id, "journey_id": journey_id}
    refusal = _step_refusal(journey=journey, step_id=step_id)
    if refusal is not None and refusal.status == 409:
        # The step stopped waiting between the checks above and this read: if the portal decided it meanwhile,
        # this request lost that race, which decides nothing and records nothing.
        decided = Decision.objects.filter(journey_id=journey_id, step_id=step_id, occurrence=current).first()
        if decided is not None:
            raise _already_decided(decided)
    if refusal is not None:
        audit_record(**audit_common, action=_audit_action(approved), outcome=AuditEvent.Outcome.REFUSED,
                     summary=f"Refused: {refusal.message}", detail={"step_id": step_id, "occurrence": current})
        raise refusal

    rules = approval_rules(user=user, workflow_id=workflow_id)
    if approved and rules.forbid_self_approval and journey_launcher_id(journey_id=journey_id) == user.pk:
        audit_record(
            **audit_common, action=_audit_action(approved), outcome=AuditEvent.Outcome.REFUSED,
            summary=f"Refused: {user.get_username()} launched this journey and may not approve it",
            detail={"step_id": step_id, "occurrence": current, "rule": "forbid_self_approval"},
        )
        raise ApprovalRefused("You launched this journey, so another approver must approve it.")

    now = timezone.now()
    approvers = [user.get_username()]
    if approved:
        _, created = ApprovalVote.objects.get_or_create(
            journey_id=journey_id, step_id=step_id, occurrence=current, user=user,
            defaults={"workflow_id": workflow_id, "username": user.get_username(), "reason": reason, "at": now},
        )
        # Counted after the vote's own commit, so of two approvers voting at once the later one to commit
        # always sees both votes: the decision can be sent twice (the Decision row stops that), never zero times.
        approvers = list(
            ApprovalVote.objects.filter(journey_id=journey_id, step_id=step_id, occurrence=current)
            .order_by("at", "id").values_list("username", flat=True)
        )
        if created:
            # Whatever follows (more approvers needed, this vote deciding, or losing the race to decide), the
            # counted vote is an event of its own.
            position = approvers.index(user.get_username()) + 1
            audit_record(
                **audit_common, action=VOTE_ACTION,
                summary=f"Approval {position} of {rules.required_approvals} recorded",
                detail={"step_id": step_id, "occurrence": current, "vote": position,
                        "required": rules.required_approvals, "approvers": approvers, "reason": reason},
            )
        if len(approvers) < rules.required_approvals:
            remaining = rules.required_approvals - len(approvers)
            message = (
                f"Your approval is recorded ({len(approvers)} of {rules.required_approvals}); "
                f"waiting for {remaining} more approver{'s' if remaining > 1 else ''}."
            )
            return DecisionResult(sent=False, approved=True, approvals=len(approvers),
                                  required=rules.required_approvals, message=message)

    mint_message = _mint_message(approved=approved, approvers=approvers, reason=reason)
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                journey_id=journey_id, step_id=step_id, occurrence=current, workflow_id=workflow_id,
                approved=approved, reason=reason, message=mint_message, decided_by=user,
                decided_by_username=user.get_username(), decided_at=now,
            )
    except IntegrityError:
        winner = Decision.objects.filter(journey_id=journey_id, step_id=step_id, occurrence=current).first()
        if winner is None:
            raise ApprovalRefused("Someone else was deciding this approval at the same moment; try again.") from None
        raise _already_decided(winner) from None

    detail = {"step_id": step_id, "occurrence": current, "approved": approved, "reason": reason,
              "approvers": approvers, "required": rules.required_approvals}
    try:
        get_client().approve_journey(journey_id, step_id=step_id, approved=approved, message=mint_message)
    except errors.MintError as exc:
        # The row goes, so the approval can be decided again. After "outcome unknown" that is still safe:
        # a retry first reads the journey, and one that moved on is no longer open for decision.
        decision.delete()
        unknown = isinstance(exc, errors.MintOutcomeUnknownError)
        noun = "approval" if approved else "rejection"
        audit_record(
            **audit_common, action=_audit_action(approved),
            outcome=AuditEvent.Outcome.UNKNOWN if unknown else AuditEvent.Outcome.FAILED,
            summary=(f"Mint did not confirm the {noun}" if unknown
                     else f"Mint refused the {noun}: {exc.message}")[:500],
            detail={**detail, "status": exc.status, "code": exc.code}, trace_id=exc.trace_id,
        )
        if unknown:
            message = ("Mint did not confirm the decision; open the journey to see whether it moved on "
                       "before trying again.")
        else:
            message = f"Mint did not accept the decision ({exc.message}); nothing was decided, you may try again."
        raise DecisionFailed(message, trace_id=exc.trace_id or "") from exc

    Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.SENT)
    verdict = "Approved" if approved else "Rejected"
    audit_record(
        **audit_common, action=_audit_action(approved),
        summary=f"{verdict} step {step_id}" + (f" by {', '.join(approvers)}" if approved else ""),
        detail=detail,
    )
    _refresh_mirror(journey_id)
    return DecisionResult(sent=True, approved=approved, approvals=len(approvers) if approved else 0,
                          required=rules.required_approvals, message=f"{verdict}. Mint has been told.")


def inbox_refresh(
    *,
    user: AbstractBaseUser,
    filters: InboxFilters,
    limit: int = PAGE_SIZE,
    budget_seconds: float = INBOX_REFRESH_BUDGET,
) -> int:
    """Reads from Mint the detail of up to ``limit`` inbox candidates whose waiting steps may be stale.

    Writes their mirror rows (``active_steps``, ``detail_seen_at``) so the inbox shows what each journey
    waits for now. Bounded twice, so a page view stays quick after a large first sync: at most ``limit``
    reads, and no new read once ``budget_seconds`` have passed (the next view or poll continues). Stops at
    the first Mint failure (the inbox then shows the last known rows). Returns how many were refreshed.
    """
    deadline = time.monotonic() + budget_seconds
    refreshed = 0
    for journey_id in journeys_needing_detail(user=user, filters=filters, limit=limit):
        if time.monotonic() > deadline:
            break
        try:
            journey_refresh(journey_id=journey_id)
        except errors.MintError as exc:
            logger.warning("inbox refresh stopped at journey %s: %s", journey_id, exc)
            break
        refreshed += 1
    return refreshed
