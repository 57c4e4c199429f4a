"""Reads for accounts: the audit trail, filtered to what the reader may see."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.audit_chain import CHAINED_FIELDS, GENESIS, GUARD_TRIGGERS, event_hash
from accounts.models import Action, AuditEvent
from accounts.policy import user_can, workflow_access


@dataclass(frozen=True)
class AuditFilters:
    """The audit page's filters; empty strings and None mean "any"."""

    actor: str = ""
    action: str = ""
    workflow_id: str = ""
    journey_id: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_visibility(*, user: AbstractBaseUser | AnonymousUser) -> Q:
    """The audit events a user may read.

    Events of a workflow need ``Action.AUDIT`` on that workflow; events tied to no workflow (access changes,
    secrets) need it on every workflow, because they may concern any of them. Superusers read everything.
    """
    access = workflow_access(user=user, action=Action.AUDIT)
    if access.everything:
        return Q()
    return Q(workflow_id__in=sorted(access.workflow_ids)) & ~Q(workflow_id="")


def audit_event_list(*, user: AbstractBaseUser | AnonymousUser, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The audit events the user may read that match ``filters``, newest first."""
    events = AuditEvent.objects.filter(audit_visibility(user=user))
    if filters.actor:
        events = events.filter(actor_username__icontains=filters.actor)
    if filters.action:
        # A prefix, so that "journey." finds every journey action and "access" every access change.
        events = events.filter(action__startswith=filters.action)
    if filters.workflow_id:
        events = events.filter(workflow_id=filters.workflow_id)
    if filters.journey_id:
        events = events.filter(journey_id=filters.journey_id)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.since:
        events = events.filter(at__gte=filters.since)
    if filters.until:
        events = events.filter(at__lte=filters.until)
    return events.order_by("-at", "-id")


def audit_action_names(*, user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """The distinct action names among the events the user may read, for the filter's suggestions."""
    return list(
        AuditEvent.objects.filter(audit_visibility(user=user)).order_by("action").values_list("action", flat=True)
        .distinct()
    )


def audit_events_for_journey(
    *, user: AbstractBaseUser | AnonymousUser, journey_id: str, workflow_id: str, limit: int = 100
) -> list[AuditEvent]:
    """What was done to one journey through the portal, newest first, for its page.

    Whoever may view the journey's workflow may read its events (they describe work on a journey the
    reader can already see); anyone else gets an empty list.
    """
    if not user_can(user=user, action=Action.VIEW, workflow_id=workflow_id):
        return []
    return list(AuditEvent.objects.filter(journey_id=journey_id).order_by("-at", "-id")[:limit])


def audit_event_rows(*, events: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    """Streams ``events`` in chunks so an export of millions of rows keeps memory flat."""
    return events.iterator(chunk_size=2000)


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which the audit chain does not hold, and what is wrong with it."""

    event_id: int
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """What ``audit_chain_verify`` found: events checked, the last good hash, the first break (None: intact)."""

    events: int
    head: str
    first_break: ChainBreak | None


def audit_chain_verify(*, batch_size: int = 5000) -> ChainReport:
    """Walks the audit chain in id order, in keyset batches (memory stays flat), up to the first break.

    An event breaks the chain when its fields do not hash to its stored ``hash`` (it was changed after it was
    written), or when its ``prev_hash`` is not the hash of the event before it (an event between them was
    deleted, or the earlier one was rewritten together with its hash).
    """
    prev_hash, prev_id, checked, last_id = GENESIS, None, 0, 0
    columns = ("id", "prev_hash", "hash", *CHAINED_FIELDS)
    while rows := list(AuditEvent.objects.filter(id__gt=last_id).order_by("id").values(*columns)[:batch_size]):
        for row in rows:
            if row["prev_hash"] != prev_hash:
                before = f"event {prev_id}" if prev_id is not None else "the start of the trail"
                return ChainReport(events=checked, head=prev_hash, first_break=ChainBreak(
                    event_id=row["id"],
                    problem=f"does not follow {before}: its prev_hash is {row['prev_hash'][:12] or '(empty)'}…, "
                            f"expected {prev_hash[:12]}…; an event in between was deleted, or {before} was "
                            "rewritten",
                ))
            if event_hash(values=row, prev_hash=prev_hash) != row["hash"]:
                return ChainReport(events=checked, head=prev_hash, first_break=ChainBreak(
                    event_id=row["id"],
                    problem="its content does not match its hash: it was changed after it was written",
                ))
            prev_hash, prev_id, checked = row["hash"], row["id"], checked + 1
        last_id = rows[-1]["id"]
    return ChainReport(events=checked, head=prev_hash, first_break=None)


def audit_guard_missing() -> list[str]:
    """The append-only triggers of the audit table that are missing or disabled (empty: all in force)."""
    expected = GUARD_TRIGGERS.get(connection.vendor, ())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled <> 'D'",
                [AuditEvent._meta.db_table],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                           [AuditEvent._meta.db_table])
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in expected if name not in present]
