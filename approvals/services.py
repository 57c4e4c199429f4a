"""Deciding approvals: four-eyes rules, one decision per approval step, and the audit record of each.

``approval_decide`` is the only way the portal approves or rejects a journey. Its guarantees:

- **Scope.** The user needs APPROVE on the journey's workflow (``NotVisible`` when they may not even view it,
  ``NotAllowed`` when they may view it but not approve).
- **Four-eyes.** The workflow's approval policies set the rules (``accounts.models.ApprovalPolicy``, the strictest
  when several match; no scope loosens them): a launcher may not approve their own journey, N distinct approvers
  may be required, and only members of the policy's approver teams may approve. Each
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
- **Recovery.** A process that dies between committing the Decision row and recording Mint's answer leaves the row
  pending, which would block the approval for ever. A pending row older than ``DECISION_LEASE`` (longer than a
  Mint write with its retries) is reconciled from one read of the journey in Mint (``decision_reconcile``): Mint
  has the decision (the step no longer waits, or waits again with the decision's output recorded before it) → the
  row is marked sent; the step still waits with no such output → the row is deleted so the approval can be decided
  again. Each is audited (``journey.decision.recover``). The beat runs ``decision_recover_stuck``; a person who
  meets such a row on the page reconciles it there and then.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Action, AuditEvent
from accounts.policy import ApprovalRules, approval_rules, ensure_can
from accounts.services import audit_record, mint_write_audited
from approvals.models import ApprovalVote, Decision
from approvals.selectors import (
    PAGE_SIZE,
    InboxFilters,
    approval_occurrence,
    journey_launcher_id,
    journey_maskers,
    journeys_needing_detail,
)
from journeys.models import APPROVAL_STEP, Journey
from journeys.services.actions import journey_read
from journeys.services.mirror import journey_mirror_refresh, waiting_work_changed
from journeys.services.refresh import journey_refresh_after_write
from journeys.services.sync import journey_refresh
from mintportal.errors import ApplicationError, Conflict, Refused
from mintportal.mint import errors, get_client
from mintportal.mint import models as mint
from privacy.masking import Masker

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 1000
# Seconds an inbox view may spend reading stale journey details from Mint before it renders what it has.
INBOX_REFRESH_BUDGET = 2.0
# The audit action of one counted approval vote; the decision it may lead to is journey.approve.
VOTE_ACTION = "journey.approve.vote"
# A pending Decision older than this lost the process sending it: well above one Mint write's timeouts and retries.
DECISION_LEASE: Final = timedelta(minutes=2)
# The audit action of a stuck decision reconciled with Mint.
RECOVER_ACTION: Final = "journey.decision.recover"


class AlreadyDecided(Conflict):
    """Someone (possibly the same user, a moment ago) has already decided this approval."""

    def __init__(self, *, decided_by: str, decided_at: datetime, approved: bool) -> None:
        when = timezone.localtime(decided_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        super().__init__(f"Already decided by {decided_by} at {when}.")
        self.decided_by = decided_by
        self.decided_at = decided_at
        self.approved = approved

    @classmethod
    def of(cls, decision: Decision) -> AlreadyDecided:
        return cls(decided_by=decision.decided_by_username, decided_at=decision.decided_at, approved=decision.approved)


class DecisionFailed(Refused):
    """Mint did not accept the decision (or did not confirm it); nothing was decided and the user may try
    again. ``trace_id`` is Mint's, for whoever looks into it."""

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


@dataclass(frozen=True)
class _Ask:
    """One user's request to decide one occurrence (the open one) of an approval step of a journey."""

    user: User
    journey_id: str
    workflow_id: str
    step_id: str
    occurrence: int
    approved: bool
    reason: str
    # False in bulk: the caller refreshes the mirror rows of many decisions in one batch afterwards.
    refresh_mirror: bool = True
    at: datetime = field(default_factory=timezone.now)

    @property
    def action(self) -> str:
        """The audit action of the decision."""
        return "journey.approve" if self.approved else "journey.reject"


def approval_decide(
    *,
    user: User,
    journey_id: str,
    step_id: str,
    approved: bool,
    reason: str = "",
    occurrence: int | None = None,
    refresh_mirror: bool = True,
) -> DecisionResult:
    """Approves or rejects the journey's waiting ``require-approval`` step ``step_id`` as ``user``.

    ``reason`` is required to reject. ``occurrence`` is the occurrence the user saw when they chose (from
    ``approval_occurrence``); a stale one means someone has decided since, and raises ``AlreadyDecided``.
    Raises ``NotVisible`` / ``NotAllowed`` (scope), ``Refused`` or ``Conflict`` (a rule or the journey's state
    forbids it), ``AlreadyDecided``, ``DecisionFailed`` (Mint refused; the approval stays open). Reads the
    journey from Mint, writes the mirror row, votes, the decision and the audit events described in the module.

    With ``refresh_mirror=False`` (bulk) the checks are the same, from the same one live read, but the journey's
    mirror row is written neither from that read nor from a second read after Mint was told: the caller must
    refresh the rows of the journeys it decided (``bulk`` does so once per chunk).
    """
    reason = _valid_reason(approved=approved, reason=reason)
    workflow_id, journey = _scope_checked(user=user, journey_id=journey_id)
    ask = _Ask(user=user, journey_id=journey_id, workflow_id=workflow_id, step_id=step_id, approved=approved,
               reason=reason, occurrence=approval_occurrence(journey_id=journey_id, step_id=step_id),
               refresh_mirror=refresh_mirror)
    _ensure_open(ask, seen=occurrence)
    _ensure_step_waits(ask, journey=journey or journey_read(journey_id))
    rules = approval_rules(user=user, workflow_id=workflow_id)
    _ensure_four_eyes(ask, rules=rules)
    approvers = _vote(ask, rules=rules) if approved else [user.get_username()]
    if approved and len(approvers) < rules.required_approvals:
        return _waiting_for_more(approvers=approvers, rules=rules)
    return _decide_once(ask, approvers=approvers, rules=rules)


def _valid_reason(*, approved: bool, reason: str) -> str:
    reason = reason.strip()
    if not approved and not reason:
        raise Refused("A reason is required to reject.")
    if len(reason) > REASON_MAX_LENGTH:
        raise Refused(f"The reason may have at most {REASON_MAX_LENGTH} characters.")
    return reason


def _scope_checked(*, user: User, journey_id: str) -> tuple[str, mint.JourneyDetail | None]:
    """The journey's workflow id, once the user is known to hold APPROVE there (and the journey, if this had to
    read it from Mint). First of all checks, from the mirror when it knows the journey, so that nothing (not
    even "already decided") is revealed to someone outside the journey's scope."""
    workflow_id = Journey.objects.filter(pk=journey_id).values_list("workflow_id", flat=True).first()
    journey = None
    if workflow_id is None:
        journey = journey_read(journey_id)
        workflow_id = journey.workflow_id
    ensure_can(user=user, action=Action.APPROVE, workflow_id=workflow_id)
    return workflow_id, journey


def _audit_text(ask: _Ask, text: str) -> str:
    """``text`` (a reason typed by an approver, a message of Mint's) as the audit trail may keep it: with the
    journey's personal values masked, by its mirror row's markers, and identifiers by their format."""
    rows = Journey.objects.filter(pk=ask.journey_id).only("id", "workflow_id", "version", "name", "data")
    return (journey_maskers(journeys=rows).get(ask.journey_id) or Masker()).text(text)


def _refused(ask: _Ask, refusal: ApplicationError, *, summary: str, **detail: object) -> ApplicationError:
    """Records the decision as refused by a rule (Mint not asked) and returns the refusal to raise."""
    audit_record(actor=ask.user, action=ask.action, outcome=AuditEvent.Outcome.REFUSED, workflow_id=ask.workflow_id,
                 journey_id=ask.journey_id, summary=summary, detail={"step_id": ask.step_id, **detail})
    return refusal


def _ensure_not_decided(ask: _Ask, occurrence: int) -> None:
    decided = Decision.objects.filter(journey_id=ask.journey_id, step_id=ask.step_id, occurrence=occurrence).first()
    if decided is None:
        return
    if decided.status == Decision.Status.PENDING and decided.decided_at < timezone.now() - DECISION_LEASE:
        # Its sender died before recording Mint's answer: ask Mint now rather than block the approval.
        found = decision_reconcile(decision=decided)
        if found == Reconciled.RELEASED:
            return
        if found == Reconciled.UNKNOWN:
            raise Conflict(f"{decided.decided_by_username}'s decision of "
                           f"{timezone.localtime(decided.decided_at).strftime('%Y-%m-%d %H:%M:%S %Z')} was being "
                           "sent to Mint when it was interrupted, and Mint cannot say now whether it arrived; "
                           "try again in a few minutes.")
        decided.status = Decision.Status.SENT
    raise AlreadyDecided.of(decided)


def _ensure_open(ask: _Ask, *, seen: int | None) -> None:
    """The occurrence the user saw is the open one, and nobody has decided it (or is deciding it) yet."""
    if seen is not None and seen < ask.occurrence:
        _ensure_not_decided(ask, seen)
    if seen is not None and seen > ask.occurrence:
        raise _refused(ask, Conflict("This approval is not open for decision; reload the page."),
                       summary="Refused: the approval named is not open for decision",
                       occurrence=seen, current=ask.occurrence)
    _ensure_not_decided(ask, ask.occurrence)


def _step_refusal(*, journey: mint.JourneyDetail, step_id: str) -> Refused | Conflict | None:
    """Why ``step_id`` of the journey as Mint describes it now cannot be decided, or None when it can.

    The page offers decisions only for waiting approval steps, but a request may name any step: an end
    user's eID login or form must never be completed by an approver's click.
    """
    waiting = {step.step_id: step.step_type for step in journey.active_steps}
    if step_id not in waiting:
        return Conflict("This journey is not waiting for this approval any more.")
    if waiting[step_id] != APPROVAL_STEP:
        return Refused(f"Step “{step_id}” ({waiting[step_id]}) is not an approval step; "
                       "only approval steps can be approved or rejected.")
    return None


def _ensure_step_waits(ask: _Ask, *, journey: mint.JourneyDetail) -> None:
    """Mirrors the journey as just read (unless the caller refreshes it later), and checks that the step waits for
    an approval in it."""
    if ask.refresh_mirror:
        journey_mirror_refresh(journey=journey)
    refusal = _step_refusal(journey=journey, step_id=ask.step_id)
    if refusal is None:
        return
    if isinstance(refusal, Conflict):
        # The step stopped waiting between the checks above and this read: if the portal decided it meanwhile,
        # this request lost that race, which decides nothing and records nothing.
        _ensure_not_decided(ask, ask.occurrence)
    raise _refused(ask, refusal, summary=f"Refused: {refusal.message}", occurrence=ask.occurrence)


def _ensure_four_eyes(ask: _Ask, *, rules: ApprovalRules) -> None:
    """Whoever launched the journey may not approve it where the rules forbid self-approval."""
    if ask.approved and rules.forbid_self_approval and journey_launcher_id(journey_id=ask.journey_id) == ask.user.pk:
        raise _refused(ask, Refused("You launched this journey, so another approver must approve it."),
                       summary=f"Refused: {ask.user.get_username()} launched this journey and may not approve it",
                       occurrence=ask.occurrence, rule="forbid_self_approval")


def _vote(ask: _Ask, *, rules: ApprovalRules) -> list[str]:
    """Records the user's approval vote (once) and returns the usernames of all the occurrence's approvers,
    in the order they voted."""
    username = ask.user.get_username()
    _, created = ApprovalVote.objects.get_or_create(
        journey_id=ask.journey_id, step_id=ask.step_id, occurrence=ask.occurrence, user=ask.user,
        defaults={"workflow_id": ask.workflow_id, "username": username, "reason": ask.reason, "at": ask.at},
    )
    # Counted after the vote's own commit, so of two approvers voting at once the later one to commit
    # always sees both votes: the decision can be sent twice (the Decision row stops that), never zero times.
    approvers = list(
        ApprovalVote.objects.filter(journey_id=ask.journey_id, step_id=ask.step_id, occurrence=ask.occurrence)
        .order_by("at", "id").values_list("username", flat=True)
    )
    if created:
        waiting_work_changed()
        # Whatever follows (more approvers needed, this vote deciding, or losing the race to decide), the
        # counted vote is an event of its own.
        position = approvers.index(username) + 1
        audit_record(
            actor=ask.user, action=VOTE_ACTION, workflow_id=ask.workflow_id, journey_id=ask.journey_id,
            summary=f"Approval {position} of {rules.required_approvals} recorded",
            detail={"step_id": ask.step_id, "occurrence": ask.occurrence, "vote": position,
                    "required": rules.required_approvals, "approvers": approvers,
                    "reason": _audit_text(ask, ask.reason)},
        )
    return approvers


def _waiting_for_more(*, approvers: list[str], rules: ApprovalRules) -> DecisionResult:
    remaining = rules.required_approvals - len(approvers)
    message = (
        f"Your approval is recorded ({len(approvers)} of {rules.required_approvals}); "
        f"waiting for {remaining} more approver{'s' if remaining > 1 else ''}."
    )
    return DecisionResult(sent=False, approved=True, approvals=len(approvers), required=rules.required_approvals,
                          message=message)


def _mint_message(*, approved: bool, approvers: list[str], reason: str) -> str:
    verdict = f"Approved by {', '.join(approvers)}" if approved else f"Rejected by {approvers[0]}"
    return f"{verdict}: {reason}" if reason else verdict


def _decision_row(ask: _Ask, *, message: str) -> Decision:
    """Commits the one Decision of this occurrence before Mint is told, so that exactly one request tells it."""
    try:
        with transaction.atomic():
            return Decision.objects.create(
                journey_id=ask.journey_id, step_id=ask.step_id, occurrence=ask.occurrence,
                workflow_id=ask.workflow_id, approved=ask.approved, reason=ask.reason, message=message,
                decided_by=ask.user, decided_by_username=ask.user.get_username(), decided_at=ask.at,
            )
    except IntegrityError:
        winner = Decision.objects.filter(
            journey_id=ask.journey_id, step_id=ask.step_id, occurrence=ask.occurrence
        ).first()
        if winner is None:
            raise Refused("Someone else was deciding this approval at the same moment; try again.") from None
        raise AlreadyDecided.of(winner) from None


def _mint_failure_summary(ask: _Ask, exc: errors.MintError) -> str:
    noun = "approval" if ask.approved else "rejection"
    if isinstance(exc, errors.MintOutcomeUnknownError):
        return f"Mint did not confirm the {noun}"
    return f"Mint refused the {noun}: {_audit_text(ask, exc.message)}"


def _decide_once(ask: _Ask, *, approvers: list[str], rules: ApprovalRules) -> DecisionResult:
    """Takes the decision (its Decision row), tells Mint, audits it and refreshes the journey's mirror row."""
    mint_message = _mint_message(approved=ask.approved, approvers=approvers, reason=ask.reason)
    decision = _decision_row(ask, message=mint_message)
    try:
        return _decision_send(ask, decision=decision, approvers=approvers, rules=rules)
    finally:
        # Sent or withdrawn, the decision row changed which occurrence waits and on whom.
        waiting_work_changed()


def _decision_send(ask: _Ask, *, decision: Decision, approvers: list[str], rules: ApprovalRules) -> DecisionResult:
    mint_message = decision.message
    detail = {"step_id": ask.step_id, "occurrence": ask.occurrence, "approved": ask.approved,
              "reason": _audit_text(ask, ask.reason), "approvers": approvers, "required": rules.required_approvals}
    verdict = "Approved" if ask.approved else "Rejected"
    try:
        with mint_write_audited(actor=ask.user, action=ask.action, workflow_id=ask.workflow_id,
                                journey_id=ask.journey_id, detail=detail, with_mint_status=True,
                                failed=lambda exc: _mint_failure_summary(ask, exc)) as write:
            get_client().approve_journey(ask.journey_id, step_id=ask.step_id, approved=ask.approved,
                                         message=mint_message)
            Decision.objects.filter(pk=decision.pk).update(status=Decision.Status.SENT)
            write.ok(f"{verdict} step {ask.step_id}" + (f" by {', '.join(approvers)}" if ask.approved else ""))
    except errors.MintError as exc:
        # The row goes, so the approval can be decided again. After "outcome unknown" that is still safe:
        # a retry first reads the journey, and one that moved on is no longer open for decision.
        decision.delete()
        if isinstance(exc, errors.MintOutcomeUnknownError):
            message = ("Mint did not confirm the decision; open the journey to see whether it moved on "
                       "before trying again.")
        else:
            message = f"Mint did not accept the decision ({exc.message}); nothing was decided, you may try again."
        raise DecisionFailed(message, trace_id=exc.trace_id or "") from exc
    if ask.refresh_mirror:
        journey_refresh_after_write(journey_id=ask.journey_id)
    return DecisionResult(sent=True, approved=ask.approved, approvals=len(approvers) if ask.approved else 0,
                          required=rules.required_approvals, message=f"{verdict}. Mint has been told.")


def inbox_refresh(
    *,
    user: User,
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


class Reconciled:
    """What ``decision_reconcile`` found."""

    CONFIRMED = "confirmed"
    RELEASED = "released"
    # Mint could not be read, or another process reconciled the row first: left as it was found.
    UNKNOWN = "unknown"


def _recorded_outputs(journey: mint.JourneyDetail, step_id: str) -> list[Any]:
    """The outputs Mint recorded for ``step_id``, oldest first: one per loop iteration that ran it, else the
    journey's own step data."""
    outputs = [iteration.step_data[step_id] for iterations in journey.loops.values() for iteration in
               sorted(iterations, key=lambda iteration: iteration.index) if step_id in iteration.step_data]
    if not outputs and step_id in journey.step_data:
        outputs.append(journey.step_data[step_id])
    return outputs


def _mint_has(decision: Decision, journey: mint.JourneyDetail) -> bool:
    """Whether Mint received the decision: its step no longer waits, or waits again (a later occurrence) after an
    output that is exactly this decision's, with at least as many outputs as the decision's occurrence."""
    if decision.step_id not in {step.step_id for step in journey.active_steps}:
        return True
    outputs = _recorded_outputs(journey, decision.step_id)
    ours = {"approved": decision.approved, "message": decision.message}
    return len(outputs) >= decision.occurrence and outputs[-1] == ours


def decision_reconcile(*, decision: Decision) -> str:
    """Settles a pending decision whose sender died, from one read of the journey in Mint: marks it sent when Mint
    has it (``Reconciled.CONFIRMED``), deletes it when the step still waits for it (``RELEASED``: the approval may
    be decided again; the votes stay). Each is audited as ``journey.decision.recover`` by the system. Returns
    ``UNKNOWN`` and changes nothing when Mint cannot be read now or another process settled the row first. Only
    for rows older than ``DECISION_LEASE``: a younger one may still be in flight."""
    try:
        journey = get_client().get_journey(decision.journey_id)
    except errors.MintError as exc:
        logger.warning("could not reconcile decision %s: %s trace_id=%s", decision.pk, type(exc).__name__,
                       exc.trace_id or "-")
        return Reconciled.UNKNOWN
    noun = "approval" if decision.approved else "rejection"
    who = f"{noun} by {decision.decided_by_username} at {decision.decided_at.isoformat()}"
    detail = {"step_id": decision.step_id, "occurrence": decision.occurrence, "approved": decision.approved,
              "decided_by": decision.decided_by_username, "decided_at": decision.decided_at.isoformat()}
    pending = Decision.objects.filter(pk=decision.pk, status=Decision.Status.PENDING)
    with transaction.atomic():
        if _mint_has(decision, journey):
            if not pending.update(status=Decision.Status.SENT):
                return Reconciled.UNKNOWN
            found, summary = Reconciled.CONFIRMED, f"Confirmed late: Mint had the {who}"
        else:
            if not pending.delete()[0]:
                return Reconciled.UNKNOWN
            found = Reconciled.RELEASED
            summary = f"Released: Mint never got the {who}; the step still waits and may be decided again"
        audit_record(actor=None, action=RECOVER_ACTION, workflow_id=decision.workflow_id,
                     journey_id=decision.journey_id, summary=summary, detail={**detail, "found": found})
    waiting_work_changed()
    return found


@dataclass(frozen=True)
class DecisionRecovery:
    confirmed: int = 0
    released: int = 0
    unknown: int = 0


def decision_recover_stuck(*, limit: int = 100) -> DecisionRecovery:
    """Beat: reconciles up to ``limit`` pending decisions older than ``DECISION_LEASE`` (``decision_reconcile``),
    oldest first; a row Mint cannot answer for now stays for the next run. Fresh pending rows are never touched."""
    stuck = Decision.objects.filter(status=Decision.Status.PENDING,
                                    decided_at__lt=timezone.now() - DECISION_LEASE).order_by("decided_at")[:limit]
    counts = {Reconciled.CONFIRMED: 0, Reconciled.RELEASED: 0, Reconciled.UNKNOWN: 0}
    for decision in stuck:
        counts[decision_reconcile(decision=decision)] += 1
    return DecisionRecovery(confirmed=counts[Reconciled.CONFIRMED], released=counts[Reconciled.RELEASED],
                            unknown=counts[Reconciled.UNKNOWN])
