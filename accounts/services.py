"""Writes for accounts: the audit trail (``audit_record``; ``mint_write_audited`` for every write to Mint), and
the record of every change to teams, scopes, approval policies and users."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AbstractUser, Group
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.audit_chain import GENESIS, chain_lock, event_hash
from accounts.models import ApprovalPolicy, AuditEvent, Scope
from mintportal.mint import errors

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
    person = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        at=timezone.now(),
        actor_id=person.pk if person else None,
        actor_username=person.get_username() if person else "system",
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
    """(kind, label, state) of a team, scope, approval policy or user, as an access audit event describes it."""
    if isinstance(target, Scope):
        return "scope", f"{target.team.name}: {target.name}", {
            "team": target.team.name, "name": target.name, "all_workflows": target.all_workflows,
            "workflow_ids": list(target.workflow_ids), "workflow_tags": list(target.workflow_tags),
            "actions": list(target.actions),
        }
    if isinstance(target, ApprovalPolicy):
        teams = sorted(team.name for team in target.approver_teams.all()) if target.pk else []
        return "policy", target.name, {
            "name": target.name, "all_workflows": target.all_workflows, "workflow_id": target.workflow_id,
            "workflow_tag": target.workflow_tag, "required_approvals": target.required_approvals,
            "forbid_self_approval": target.forbid_self_approval, "sla_hours": target.sla_hours,
            "approver_teams": teams,
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
    """Records one audit event for a change to who may do what: a team, a scope, an approval policy or a user.

    ``verb`` is ``create``, ``update``, ``delete`` or ``password``; the event's action is
    ``access.<kind>.<verb>`` (e.g. ``access.scope.update``, ``access.policy.create``). The detail holds the
    object's resulting access state (for a delete, the state it had) and ``changes``, the admin's description
    of which fields changed; never a password or any other secret. Call it once per object per submitted change.
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


def mint_outcome(exc: errors.MintError) -> str:
    """The audit outcome of a write Mint did not carry out: ``unknown`` when it may have acted anyway, else
    ``failed``."""
    return AuditEvent.Outcome.UNKNOWN if isinstance(exc, errors.MintOutcomeUnknownError) else AuditEvent.Outcome.FAILED


@dataclass
class AuditedWrite:
    """The write a ``mint_write_audited`` block makes; ``ok`` records its success."""

    actor: AbstractBaseUser
    action: str
    workflow_id: str
    journey_id: str
    detail: dict[str, Any]
    recorded: bool = False

    def ok(self, summary: str, *, detail: dict[str, Any] | None = None, workflow_id: str = "") -> AuditEvent:
        """Records the write as done (outcome ``ok``); ``detail`` and ``workflow_id`` replace the block's when
        given (e.g. a created workflow's new id). Call it once, last in the transaction that stores the result."""
        self.recorded = True
        return audit_record(actor=self.actor, action=self.action, workflow_id=workflow_id or self.workflow_id,
                            journey_id=self.journey_id, summary=summary,
                            detail=self.detail if detail is None else detail)


@contextmanager
def mint_write_audited(
    *,
    actor: AbstractBaseUser,
    action: str,
    failed: str | Callable[[errors.MintError], str],
    workflow_id: str = "",
    journey_id: str = "",
    detail: dict[str, Any] | None = None,
    with_mint_status: bool = False,
) -> Iterator[AuditedWrite]:
    """Runs a write to Mint so that it is audited exactly once, whichever way it ends.

    Inside the block the caller calls Mint, stores what came back, and records the success with ``write.ok``.
    When a ``MintError`` leaves the block before that, one event is recorded with the outcome ``mint_outcome``
    gives, the summary ``failed`` (or ``failed(exc)``), ``detail`` (plus Mint's ``status`` and ``code`` with
    ``with_mint_status``) and Mint's trace id, and the error propagates unchanged.
    """
    write = AuditedWrite(actor=actor, action=action, workflow_id=workflow_id, journey_id=journey_id,
                         detail=dict(detail or {}))
    try:
        yield write
    except errors.MintError as exc:
        if not write.recorded:
            failure_detail = write.detail
            if with_mint_status:
                failure_detail = {**failure_detail, "status": exc.status, "code": exc.code}
            audit_record(actor=actor, action=action, outcome=mint_outcome(exc), workflow_id=workflow_id,
                         journey_id=journey_id, summary=failed(exc) if callable(failed) else failed,
                         detail=failure_detail, trace_id=exc.trace_id)
        raise
