"""Writes a case handler makes on one journey: continue a suspended step, share a new journey URL.

Each service calls Mint, refreshes the journey's mirror row where the journey changed, and records exactly
one audit event (``failed`` with Mint's trace id when Mint refuses, ``unknown`` when Mint could not say).
The journey URL is a bearer link for the end user: it is returned to the caller and never audited or logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from accounts.models import Action, AuditEvent
from accounts.policy import REFUSALS, user_can
from accounts.services import audit_record, mint_write_audited
from journeys.models import SUSPEND_STEP
from journeys.selectors import journey_awaits_end_user
from journeys.services.refresh import journey_refresh_after_write
from journeys.services.stepforms import step_input_clean
from mintportal.errors import ApplicationError, Conflict, NotAllowed, NotVisible, Refused
from mintportal.mint import errors, get_client
from mintportal.mint import models as mint


def _audit_refusal(*, actor: AbstractBaseUser, action: str, journey_id: str, workflow_id: str,
                   refusal: ApplicationError, detail: dict[str, Any]) -> ApplicationError:
    """Records a request the portal refused before calling Mint, and returns the refusal to raise."""
    audit_record(actor=actor, action=action, outcome=AuditEvent.Outcome.REFUSED, workflow_id=workflow_id,
                 journey_id=journey_id, summary=f"Refused: {refusal.message}",
                 detail={**detail, "refusal": type(refusal).__name__})
    return refusal


def journey_read(journey_id: str) -> mint.JourneyDetail:
    """The journey as Mint describes it now, for a write to check what it may do; ``NotVisible`` when Mint
    has no such journey."""
    try:
        return get_client().get_journey(journey_id)
    except errors.MintNotFoundError:
        raise NotVisible("No such journey.") from None


def _resume_refusal(*, actor: AbstractBaseUser, journey: mint.JourneyDetail, step_id: str) -> ApplicationError | None:
    """Why ``actor`` may not continue ``step_id`` of the journey as it is now, or None when they may."""
    if not user_can(user=actor, action=Action.VIEW, workflow_id=journey.workflow_id):
        return NotVisible("No such journey.")
    if not user_can(user=actor, action=Action.CONTINUE, workflow_id=journey.workflow_id):
        return NotAllowed(REFUSALS[Action.CONTINUE])
    if journey.is_final:
        return Conflict(f"The journey has ended ({journey.status}); there is nothing left to continue.")
    waiting = {step.step_id: step.step_type for step in journey.active_steps}
    if step_id not in waiting:
        return Conflict(f"The journey is not waiting at step “{step_id}” (any more); reload the page.")
    if waiting[step_id] != SUSPEND_STEP:
        return Refused(
            f"Step “{step_id}” ({waiting[step_id]}) is not a manual step: only suspend steps can be continued "
            "from the portal. End-user steps are completed by the end user at the journey URL, approvals "
            "by an approver."
        )
    return None


@dataclass(frozen=True)
class Resumed:
    """A continued step and the journey as Mint describes it right after (None when it could not be re-read)."""

    step_id: str
    journey: mint.JourneyDetail | None


def journey_resume(*, actor: AbstractBaseUser, journey_id: str, step_id: str, answers: Mapping[str, Any],
                   raw: dict[str, Any] | None = None) -> Resumed:
    """Continues the journey's waiting suspend step ``step_id`` with the answers to its form as the step's output.

    The page offers a form only for suspend steps that wait, but a request may name any step, so this reads
    the journey from Mint and checks again: the user may view and continue its workflow, the journey has not
    ended, ``step_id`` waits now, and it is a suspend step (never an end user's form or eID login, never an
    approval). A request that fails a check raises ``NotVisible``/``NotAllowed``/``Conflict``/``Refused``, is
    audited as ``refused``, and Mint's resume is not called.

    ``answers`` (the form's inputs by key) are then checked against the step's form
    (``journeys.services.stepforms``): a missing or mistyped answer, or a key the form does not ask for, raises
    ``StepInputInvalid`` naming the fields and nothing is sent. ``raw``, a JSON object typed by someone who manages
    the workflow, replaces the answers: its keys are checked the same way, but keys the form does not know pass.
    From anyone else it is refused (``NotAllowed``, audited). The audit event names the output's keys, not its
    values (they may be personal data). Raises ``MintError`` when Mint refuses or cannot answer.
    """
    detail: dict[str, Any] = {"step_id": step_id, "input_keys": sorted(raw if raw is not None else answers)}
    journey = journey_read(journey_id)
    refusal = _resume_refusal(actor=actor, journey=journey, step_id=step_id)
    if isinstance(refusal, NotVisible):
        # Nothing is recorded against a journey the user may not know exists beyond the refusal itself.
        raise refusal
    if refusal is None and raw is not None and not user_can(user=actor, action=Action.MANAGE,
                                                            workflow_id=journey.workflow_id):
        refusal = NotAllowed("Only people who manage this workflow may continue a step with raw JSON; "
                             "fill in the step's form instead.")
    if refusal is not None:
        raise _audit_refusal(actor=actor, action="journey.resume", journey_id=journey_id,
                             workflow_id=journey.workflow_id, refusal=refusal, detail=detail)
    # A mistyped answer is the person's to correct on the form, like any form error: it is not audited.
    input = step_input_clean(journey=journey, step_id=step_id, answers=raw if raw is not None else answers,
                             allow_unknown=raw is not None)
    detail["input_keys"] = sorted(input)
    with mint_write_audited(actor=actor, action="journey.resume", workflow_id=journey.workflow_id,
                            journey_id=journey_id, detail=detail,
                            failed=f"Continue step {step_id} refused by Mint") as write:
        get_client().resume_journey(journey_id, step_id=step_id, input=input)
        write.ok(f"Continued step {step_id}")
    return Resumed(step_id=step_id, journey=journey_refresh_after_write(journey_id=journey_id))


@dataclass(frozen=True)
class SharedUrl:
    url: str
    time_to_live: int
    expires_at: datetime


def journey_url_create(*, actor: AbstractBaseUser, journey_id: str, time_to_live: int) -> SharedUrl:
    """Asks Mint for a new end-user link to the journey, valid ``time_to_live`` seconds (1–2,592,000).

    Reads the journey first and checks again what the page offered: the user may view it and share links
    of its workflow, the journey has not ended (a link to a finished journey shows the end user nothing
    to do), a step waits on the end user (or none has run yet), and the link lasts at least a second. A
    refusal raises ``NotVisible``/``NotAllowed``/``Conflict``/``Refused``, is audited as ``refused`` and Mint
    is not asked. Returns the link with its expiry; the audit event records the lifetime and expiry, never
    the link.
    """
    detail: dict[str, Any] = {"time_to_live": time_to_live}
    journey = journey_read(journey_id)
    if not user_can(user=actor, action=Action.VIEW, workflow_id=journey.workflow_id):
        raise NotVisible("No such journey.")
    refusal: ApplicationError | None = None
    if not user_can(user=actor, action=Action.SHARE, workflow_id=journey.workflow_id):
        refusal = NotAllowed(REFUSALS[Action.SHARE])
    elif journey.is_final:
        refusal = Conflict(f"The journey has ended ({journey.status}); a new link would show the end user nothing.")
    elif time_to_live <= 0:
        refusal = Refused("A link that lasts no time could not be used; give it a lifetime of at least a second.")
    elif not journey_awaits_end_user(journey=journey):
        refusal = Conflict("No step of this journey waits on the end user; a link would show them nothing to do.")
    if refusal is not None:
        raise _audit_refusal(actor=actor, action="journey.url_create", journey_id=journey_id,
                             workflow_id=journey.workflow_id, refusal=refusal, detail=detail)
    requested_at = timezone.now()
    with mint_write_audited(actor=actor, action="journey.url_create", workflow_id=journey.workflow_id,
                            journey_id=journey_id, detail=detail, failed="Create journey URL refused by Mint") as write:
        result = get_client().create_journey_url(journey_id, time_to_live=time_to_live)
        expires_at = requested_at + timedelta(seconds=time_to_live)
        write.ok(f"Created a journey URL valid for {time_to_live} s",
                 detail={**detail, "expires_at": expires_at.isoformat()})
    return SharedUrl(url=result.journey_url, time_to_live=time_to_live, expires_at=expires_at)
