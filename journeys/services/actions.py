"""Writes a case handler makes on one journey: continue a suspended step, share a new journey URL.

Each service calls Mint, refreshes the journey's mirror row where the journey changed, and records exactly
one audit event (``failed`` with Mint's trace id when Mint refuses, ``unknown`` when Mint could not say).
The journey URL is a bearer link for the end user: it is returned to the caller and never audited or logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record
from journeys.services.mirror import journey_mirror_refresh
from mintportal.mint import errors, get_client

logger = logging.getLogger(__name__)


def outcome_of(exc: errors.MintError) -> str:
    """The audit outcome of a refused write: unknown when Mint may have acted, failed otherwise."""
    return AuditEvent.Outcome.UNKNOWN if isinstance(exc, errors.MintOutcomeUnknownError) else AuditEvent.Outcome.FAILED


def refresh_mirror_quietly(journey_id: str) -> None:
    """Re-reads the journey after a write so lists show the change now; the write stands if this fails."""
    try:
        journey_mirror_refresh(journey=get_client().get_journey(journey_id))
    except errors.MintError as exc:
        logger.warning("could not refresh journey %s after a write: %s trace_id=%s",
                       journey_id, type(exc).__name__, exc.trace_id or "-")


def journey_resume(
    *, actor: AbstractBaseUser, journey_id: str, workflow_id: str, step_id: str, input: dict[str, Any]
) -> None:
    """Continues the journey's suspended step ``step_id``; ``input`` becomes the step's output.

    The audit event names the input's keys, not its values (they may be personal data).
    Raises ``MintError`` when Mint refuses (e.g. ``MintConflictError``: the step no longer waits).
    """
    detail = {"step_id": step_id, "input_keys": sorted(input)}
    try:
        get_client().resume_journey(journey_id, step_id=step_id, input=input)
    except errors.MintError as exc:
        audit_record(actor=actor, action="journey.resume", outcome=outcome_of(exc), workflow_id=workflow_id,
                     journey_id=journey_id, summary=f"Continue step {step_id} refused by Mint", detail=detail,
                     trace_id=exc.trace_id)
        raise
    audit_record(actor=actor, action="journey.resume", workflow_id=workflow_id, journey_id=journey_id,
                 summary=f"Continued step {step_id}", detail=detail)
    refresh_mirror_quietly(journey_id)


@dataclass(frozen=True)
class SharedUrl:
    url: str
    time_to_live: int
    expires_at: datetime


def journey_url_create(*, actor: AbstractBaseUser, journey_id: str, workflow_id: str, time_to_live: int) -> SharedUrl:
    """Asks Mint for a new end-user link to the journey, valid ``time_to_live`` seconds (0–2,592,000).

    Returns the link with its expiry; the audit event records the lifetime and expiry, never the link.
    """
    requested_at = timezone.now()
    detail = {"time_to_live": time_to_live}
    try:
        result = get_client().create_journey_url(journey_id, time_to_live=time_to_live)
    except errors.MintError as exc:
        audit_record(actor=actor, action="journey.url_create", outcome=outcome_of(exc), workflow_id=workflow_id,
                     journey_id=journey_id, summary="Create journey URL refused by Mint", detail=detail,
                     trace_id=exc.trace_id)
        raise
    expires_at = requested_at + timedelta(seconds=time_to_live)
    audit_record(actor=actor, action="journey.url_create", workflow_id=workflow_id, journey_id=journey_id,
                 summary=f"Created a journey URL valid for {time_to_live} s",
                 detail={**detail, "expires_at": expires_at.isoformat()})
    return SharedUrl(url=result.journey_url, time_to_live=time_to_live, expires_at=expires_at)
