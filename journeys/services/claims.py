"""Writes for claims: take a case ("Assign to me"), assign it to someone, release it.

Who may do which is set out in ``journeys/claims_selectors.py``. Every write is one transaction that holds a
lock on the claimed step's ``WaitingStep`` row, writes the claim conditionally and records one audit event
(``journey.claim``, ``journey.assign``, ``journey.release``):

- taking an unheld case inserts the row, and the claim's unique key on the journey makes of two claims at once
  one owner; changing or deleting a held case is ``UPDATE``/``DELETE … WHERE user = <the holder read>``. The
  one that finds the case changed under it gets ``AlreadyHeld`` naming who holds it now, and records nothing:
  it lost a race, it was not refused (as ``approvals.services.AlreadyDecided``).
- the mirror deletes a step's ``WaitingStep`` rows and claims together when the step stops waiting
  (``journeys.services.mirror``); the row lock makes a claim and that cleanup take turns, so no claim is
  written for a step the mirror has just retired.
- refusals the service decides (``Refused``: an assignee who may not act; ``Conflict``: no step waits) are
  audited here as ``refused``; ``NotVisible`` and ``NotAllowed`` from a view are audited by
  ``accounts.middleware.RefusedWriteAuditMiddleware`` like every write route's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Action, AuditEvent
from accounts.policy import REFUSALS, ensure_can, user_can
from accounts.services import audit_record
from journeys.claims_selectors import (
    CLAIMABLE_ACTIONS,
    claim_get,
    claim_step_for,
    claim_steps,
    held_since,
    may_manage_claims,
    step_refusal,
)
from journeys.models import Claim, Journey, JourneyStatus, WaitingStep
from journeys.services.mirror import waiting_work_changed
from journeys.services.sync import journey_refresh
from mintportal.errors import ApplicationError, Conflict, NotAllowed, NotVisible, Refused

# ``expected_holder``: the holder the user saw when they asked (a user id, None for "nobody"), or ANY_HOLDER
# when the caller does not care who holds the case now.
ANY_HOLDER: Final = "any"
ExpectedHolder = int | None | Literal["any"]


class AlreadyHeld(Conflict):
    """The case changed hands while the request was on its way: another person holds it, or nobody does."""

    def __init__(self, claim: Claim | None) -> None:
        if claim is None:
            super().__init__("Nobody holds this case any more.")
        else:
            super().__init__(f"Already held by {claim.user.get_username()} since {held_since(claim)}.")
        self.claim = claim


@dataclass(frozen=True)
class ClaimResult:
    """What a claim write left: the claim (None after a release) and whether anything changed."""

    claim: Claim | None
    changed: bool


def _stale(row: Journey) -> bool:
    # The listing sync moves ``last_executed_at`` on; a detail read before that may name steps done since.
    return row.detail_seen_at is None or (
        row.last_executed_at is not None and row.detail_seen_at < row.last_executed_at
    )


def _journey(*, actor: AbstractBaseUser, journey_id: str, waiting: bool = True) -> Journey:
    """The journey's mirror row, in the actor's view scope (else ``NotVisible``), its waiting steps read from Mint
    first when the mirror's copy may be out of date; with ``waiting``, ``Conflict`` unless it is active."""
    row = Journey.objects.filter(pk=journey_id).first()
    if row is not None:
        ensure_can(user=actor, action=Action.VIEW, workflow_id=row.workflow_id)
    if row is None or (waiting and _stale(row)):
        row = journey_refresh(journey_id=journey_id)
        if row is None:
            raise NotVisible("No such journey.")
        ensure_can(user=actor, action=Action.VIEW, workflow_id=row.workflow_id)
    if row.gone_at is not None:
        raise NotVisible("No such journey.")
    if waiting and row.status != JourneyStatus.ACTIVE:
        raise Conflict(f"This journey is {row.status}: it waits on nobody.")
    return row


def _step(*, journey: Journey, subject: AbstractBaseUser, step_id: str, refuse: type[ApplicationError]
          ) -> WaitingStep:
    """The waiting step ``subject`` would hold (``step_id``, or the first they may act on). ``Conflict`` when no
    such step waits; ``refuse`` (NotAllowed for the actor, Refused for an assignee) when they may not act on it."""
    steps = claim_steps(journey_id=journey.id)
    if step_id:
        steps = [step for step in steps if step.step_id == step_id]
    if not steps:
        raise Conflict(f"Step “{step_id}” does not wait on a person." if step_id else
                       "This journey does not wait on a manual step or an approval.")
    step = claim_step_for(user=subject, workflow_id=journey.workflow_id, steps=steps)
    if step is None:
        if refuse is NotAllowed:
            raise NotAllowed(REFUSALS[CLAIMABLE_ACTIONS[steps[0].step_type]])
        raise refuse(f"assignee: {step_refusal(username=subject.get_username(), step=steps[0])}")
    return step


def _assignee(assignee_id: int) -> AbstractBaseUser:
    person = get_user_model().objects.filter(pk=assignee_id).first()
    if person is None:
        raise Refused("assignee: no such member.")
    if not person.is_active:
        raise Refused(f"assignee: {person.get_username()} is not an active user.")
    return person


def _check_expected(current: Claim | None, expected: ExpectedHolder) -> None:
    if expected != ANY_HOLDER and (current.user_id if current is not None else None) != expected:
        raise AlreadyHeld(current)


def _hold(*, actor: AbstractBaseUser, journey: Journey, step: WaitingStep, holder: AbstractBaseUser,
          expected: ExpectedHolder, may_move: bool, action: str) -> ClaimResult:
    """Makes ``holder`` hold ``step`` in one transaction and audits it as ``action``. ``may_move``: whether the
    actor may take the case from another holder (else ``AlreadyHeld`` when someone else holds it)."""
    with transaction.atomic():
        # The mirror deletes this row (and the step's claims) when the step stops waiting: locked, a claim
        # either lands before that cleanup, which then deletes it, or finds the step gone.
        # A refresh that rewrote the journey's steps meanwhile gave a step still waiting a new row, which only a
        # second statement sees.
        rows = WaitingStep.objects.select_for_update().filter(journey_id=journey.id, step_id=step.step_id)
        if not list(rows.values_list("pk", flat=True)) and not list(rows.values_list("pk", flat=True)):
            raise Conflict(f"Step “{step.step_id}” no longer waits.")
        current = claim_get(journey_id=journey.id)
        _check_expected(current, expected)
        if current is not None and current.user_id == holder.pk and current.step_id == step.step_id:
            return ClaimResult(claim=current, changed=False)
        now = timezone.now()
        if current is None:
            try:
                with transaction.atomic():
                    Claim.objects.create(journey=journey, step_id=step.step_id, user_id=holder.pk,
                                         assigned_by_id=actor.pk, claimed_at=now)
            except IntegrityError:
                raise AlreadyHeld(claim_get(journey_id=journey.id)) from None
        else:
            if current.user_id != actor.pk and not may_move:
                raise AlreadyHeld(current)
            moved = Claim.objects.filter(pk=current.pk, user_id=current.user_id).update(
                user_id=holder.pk, step_id=step.step_id, assigned_by_id=actor.pk, claimed_at=now)
            if not moved:
                raise AlreadyHeld(claim_get(journey_id=journey.id))
        previous = current.user.get_username() if current is not None else None
        summary = (f"Claimed step “{step.step_id}”" if holder.pk == actor.pk
                   else f"Assigned step “{step.step_id}” to {holder.get_username()}")
        audit_record(actor=actor, action=action, workflow_id=journey.workflow_id, journey_id=journey.id,
                     summary=summary + (f" (held by {previous} before)" if previous else ""),
                     detail={"step_id": step.step_id, "holder": holder.get_username(), "previous": previous})
    waiting_work_changed()
    return ClaimResult(claim=claim_get(journey_id=journey.id), changed=True)


def _audited_refusal(*, actor: AbstractBaseUser, action: str, journey_id: str, exc: ApplicationError) -> None:
    """Records a refusal the service decided (not a lost race, nor one the middleware records)."""
    if isinstance(exc, AlreadyHeld | NotVisible | NotAllowed):
        return
    workflow_id = Journey.objects.filter(pk=journey_id).values_list("workflow_id", flat=True).first() or ""
    audit_record(actor=actor, action=action, outcome=AuditEvent.Outcome.REFUSED, workflow_id=workflow_id,
                 journey_id=journey_id, summary=f"Refused: {exc.message}", detail={"status": exc.status})


def claim_take(*, actor: AbstractBaseUser, journey_id: str, step_id: str = "",
               expected_holder: ExpectedHolder = ANY_HOLDER) -> ClaimResult:
    """"Assign to me": ``actor`` holds the journey's waiting step ``step_id`` (else the first they may act on).

    Raises ``NotVisible`` outside the actor's view scope, ``Conflict`` when no such step waits, ``NotAllowed``
    when the actor may not act on it, ``AlreadyHeld`` when another person holds the case and the actor may not
    take it over (MANAGE on the workflow) or the holder is not ``expected_holder``. Taking one's own case again
    changes nothing and records nothing.
    """
    try:
        journey = _journey(actor=actor, journey_id=journey_id)
        step = _step(journey=journey, subject=actor, step_id=step_id, refuse=NotAllowed)
        return _hold(actor=actor, journey=journey, step=step, holder=actor, expected=expected_holder,
                     may_move=may_manage_claims(user=actor, workflow_id=journey.workflow_id), action="journey.claim")
    except ApplicationError as exc:
        _audited_refusal(actor=actor, action="journey.claim", journey_id=journey_id, exc=exc)
        raise


def claim_assign(*, actor: AbstractBaseUser, journey_id: str, assignee_id: int, step_id: str = "",
                 expected_holder: ExpectedHolder = ANY_HOLDER) -> ClaimResult:
    """Makes ``assignee_id`` hold the journey's waiting step (``step_id``, else the first they may act on).

    Assigning to oneself is ``claim_take``. Assigning to someone else needs MANAGE on the workflow or holding the
    case (``NotAllowed``); the assignee must be active and may view the journey and act on the step
    (``Refused``, naming them and why). Otherwise as ``claim_take``; audited as ``journey.assign``.
    """
    if assignee_id == actor.pk:
        return claim_take(actor=actor, journey_id=journey_id, step_id=step_id, expected_holder=expected_holder)
    try:
        journey = _journey(actor=actor, journey_id=journey_id)
        manager = may_manage_claims(user=actor, workflow_id=journey.workflow_id)
        current = claim_get(journey_id=journey.id)
        if not manager and (current is None or current.user_id != actor.pk):
            raise NotAllowed("Only the case's holder or a manager of the workflow may assign it to someone else.")
        assignee = _assignee(assignee_id)
        if not user_can(user=assignee, action=Action.VIEW, workflow_id=journey.workflow_id):
            raise Refused(f"assignee: {assignee.get_username()} may not see this journey.")
        step = _step(journey=journey, subject=assignee, step_id=step_id, refuse=Refused)
        # A holder who is no manager hands on only the case they hold, as they hold it now.
        expected = expected_holder if manager else actor.pk
        if not manager and expected_holder not in (ANY_HOLDER, actor.pk):
            raise AlreadyHeld(current)
        return _hold(actor=actor, journey=journey, step=step, holder=assignee, expected=expected,
                     may_move=True, action="journey.assign")
    except ApplicationError as exc:
        _audited_refusal(actor=actor, action="journey.assign", journey_id=journey_id, exc=exc)
        raise


def claim_release(*, actor: AbstractBaseUser, journey_id: str,
                  expected_holder: ExpectedHolder = ANY_HOLDER) -> ClaimResult:
    """Ends the journey's claim: the holder's own, or anyone's for a manager of the workflow (``NotAllowed``
    otherwise). ``AlreadyHeld`` when nobody holds the case or not ``expected_holder``. Audited as
    ``journey.release``."""
    try:
        journey = _journey(actor=actor, journey_id=journey_id, waiting=False)
        with transaction.atomic():
            current = claim_get(journey_id=journey.id)
            if current is None:
                raise AlreadyHeld(None)
            _check_expected(current, expected_holder)
            if current.user_id != actor.pk and not may_manage_claims(user=actor, workflow_id=journey.workflow_id):
                raise NotAllowed("Only the case's holder or a manager of the workflow may release it.")
            if not Claim.objects.filter(pk=current.pk, user_id=current.user_id).delete()[0]:
                raise AlreadyHeld(claim_get(journey_id=journey.id))
            holder = current.user.get_username()
            audit_record(actor=actor, action="journey.release", workflow_id=journey.workflow_id,
                         journey_id=journey.id,
                         summary=f"Released step “{current.step_id}”" + ("" if current.user_id == actor.pk
                                                                        else f" held by {holder}"),
                         detail={"step_id": current.step_id, "holder": holder})
        waiting_work_changed()
        return ClaimResult(claim=None, changed=True)
    except ApplicationError as exc:
        _audited_refusal(actor=actor, action="journey.release", journey_id=journey_id, exc=exc)
        raise
