"""Writes for accounts: the audit trail."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from accounts.models import AuditEvent

logger = logging.getLogger(__name__)

# Keys whose values must never be recorded, wherever they appear in an event's detail.
_SECRET_KEYS = frozenset({"value", "secret", "client_secret", "password", "token", "access_token"})


def _scrub(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: ("[redacted]" if k.lower() in _SECRET_KEYS else _scrub(v)) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_scrub(item) for item in detail]
    return detail


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    outcome: str = AuditEvent.Outcome.OK,
    workflow_id: str = "",
    journey_id: str = "",
    summary: str = "",
    detail: dict[str, Any] | None = None,
    trace_id: str | None = "",
) -> AuditEvent:
    """Records one audit event (who, when in UTC, what, on which workflow/journey, outcome, trace id).

    ``action`` is a dotted verb such as ``journey.launch`` or ``secret.update``. Values under secret-like keys
    in ``detail`` are replaced by ``[redacted]`` so that no secret value is ever stored.
    """
    event = AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=actor.get_username() if actor is not None and actor.is_authenticated else "system",
        action=action,
        outcome=outcome,
        workflow_id=workflow_id or "",
        journey_id=journey_id or "",
        summary=summary[:500],
        detail=_scrub(detail or {}),
        trace_id=trace_id or "",
    )
    logger.info("audit %s %s by %s journey=%s workflow=%s trace=%s", action, outcome, event.actor_username,
                journey_id or "-", workflow_id or "-", trace_id or "-")
    return event
