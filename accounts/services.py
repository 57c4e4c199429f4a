"""Writes for accounts: the audit trail, and the record of every change to teams, scopes and users."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AbstractUser, Group
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.audit_chain import GENESIS, chain_lock, event_hash
from accounts.models import AuditEvent, Scope

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
    """Appends one audit event (who, when in UTC, what, on which workflow/journey, outcome, trace id).

    ``action`` is a dotted verb such as ``journey.launch`` or ``secret.update``. Values under secret-like keys
    in ``detail`` are replaced by ``[redacted]`` so that no secret value is ever stored. The event is chained
    to the one before it (``accounts.audit_chain``): writers take turns from here until the surrounding
    transaction commits, so call it last in a transaction. This is the only code that writes audit rows.
    """
    authenticated = actor is not None and actor.is_authenticated
    event = AuditEvent(
        at=timezone.now(),
        actor_id=actor.pk if authenticated else None,
        actor_username=actor.get_username() if authenticated else "system",
        action=action,
        outcome=outcome,
        workflow_id=workflow_id or "",
        journey_id=journey_id or "",
        summary=summary[:500],
        detail=_scrub(detail or {}),
        trace_id=trace_id or "",
    )
    # No savepoint: inside a caller's transaction the insert stands or falls with it.
    with transaction.atomic(savepoint=False):
        chain_lock(connection)
        event.prev_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
        event.hash = event_hash(values=vars(event), prev_hash=event.prev_hash)
        event.save(force_insert=True)
    logger.info("audit %s %s by %s journey=%s workflow=%s trace=%s", action, outcome, event.actor_username,
                journey_id or "-", workflow_id or "-", trace_id or "-")
    return event


def _access_snapshot(target: Model) -> tuple[str, str, dict[str, Any]]:
    """(kind, label, state) of a team, scope or user, as an access audit event describes it."""
    if isinstance(target, Scope):
        return "scope", f"{target.team.name}: {target.name}", {
            "team": target.team.name, "name": target.name, "all_workflows": target.all_workflows,
            "workflow_ids": list(target.workflow_ids), "workflow_tags": list(target.workflow_tags),
            "actions": list(target.actions), "sla_hours": target.sla_hours,
            "forbid_self_approval": target.forbid_self_approval, "required_approvals": target.required_approvals,
        }
    if isinstance(target, Group):
        scopes = [scope.name for scope in target.scopes.all()] if target.pk else []
        return "team", target.name, {"name": target.name, "scopes": scopes}
    if isinstance(target, AbstractUser):
        teams = sorted(target.groups.values_list("name", flat=True)) if target.pk else []
        return "user", target.get_username(), {
            "username": target.get_username(), "is_active": target.is_active, "is_staff": target.is_staff,
            "is_superuser": target.is_superuser, "teams": teams,
        }
    raise TypeError(f"Not an access object: {type(target).__name__}")


def access_change_record(
    *, actor: AbstractBaseUser | None, target: Model, verb: str, changes: Any = None
) -> AuditEvent:
    """Records one audit event for a change to who may do what: a team, a scope or a user.

    ``verb`` is ``create``, ``update``, ``delete`` or ``password``; the event's action is
    ``access.<kind>.<verb>`` (e.g. ``access.scope.update``). The detail holds the object's resulting access
    state (for a delete, the state it had) and ``changes``, the admin's description of which fields
    changed; never a password or any other secret. Call it once per object per submitted change.
    ``actor`` None means the system (``demo_setup``).
    """
    kind, label, state = _access_snapshot(target)
    summaries = {
        "create": f"Created {kind} {label}",
        "update": f"Changed {kind} {label}",
        "delete": f"Deleted {kind} {label}",
        "password": f"Changed the password of {label}",
    }
    if verb not in summaries:
        raise ValueError(f"Unknown access change: {verb}")
    detail: dict[str, Any] = {"state": state}
    if changes:
        detail["changes"] = changes
    return audit_record(actor=actor, action=f"access.{kind}.{verb}", summary=summaries[verb], detail=detail)
