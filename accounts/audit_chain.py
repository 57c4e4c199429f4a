"""The audit trail's hash chain: how an event is hashed, and how writers take turns appending.

Each ``AuditEvent`` stores ``prev_hash`` (the ``hash`` of the event before it in id order, ``GENESIS`` for the
first) and ``hash``: SHA-256 over a canonical JSON text of its chained fields and ``prev_hash``. Editing any
field of an event changes what its hash should be; deleting an event leaves the next one's ``prev_hash``
pointing at an event that is not there. ``accounts.selectors.audit_chain_verify`` walks the chain.

What the chain cannot show on its own: someone able to write the table freely (its owner, with the triggers
of migration 0005_audit_append_only disabled) could rewrite every hash after an edit, or cut events off the end.
``manage.py audit_verify`` prints the head hash and count; keeping that line somewhere else (a ticket, a
log shipped off the machine) is what makes such a rewrite visible later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal
from typing import Any, Final

from django.db.backends.base.base import BaseDatabaseWrapper

GENESIS: Final = "0" * 64
# The fields an event's hash covers, besides prev_hash: everything it says, and who said it.
CHAINED_FIELDS: Final = (
    "at", "actor_id", "actor_username", "action", "outcome", "workflow_id", "journey_id", "summary", "detail",
    "trace_id",
)
# The version of the canonical text; a future change of format hashes new events under a new number.
_FORMAT: Final = 1
# pg_advisory_xact_lock key shared by every writer of the audit table ("mintaudt" as a big-endian int64).
_CHAIN_LOCK_KEY: Final = int.from_bytes(b"mintaudt", "big")
# The triggers of migration 0005_audit_append_only that make the table append-only, per database vendor.
GUARD_TRIGGERS: Final = {
    "postgresql": ("accounts_auditevent_append_only", "accounts_auditevent_no_truncate"),
    "sqlite": ("accounts_auditevent_no_update", "accounts_auditevent_no_delete"),
}


def _normalised(value: Any) -> Any:
    """The value as it reads back from either database, with every mapping key a string.

    PostgreSQL's jsonb keeps numbers as decimals: the float 1e20 comes back as the integer
    100000000000000000000 and 1.0 may come back as 1, so a whole float is hashed as its exact integer.
    """
    if isinstance(value, float) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, Mapping):
        return {str(key): _normalised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalised(item) for item in value]
    return value


def event_hash(*, values: Mapping[str, Any], prev_hash: str) -> str:
    """The hash an event with these ``CHAINED_FIELDS`` values must carry after ``prev_hash``."""
    fields = {name: values[name] for name in CHAINED_FIELDS}
    fields["at"] = values["at"].astimezone(UTC).isoformat(timespec="microseconds")
    fields["detail"] = _normalised(values["detail"])
    fields["format"] = _FORMAT
    fields["prev_hash"] = prev_hash
    # Sorted keys, no spaces, ASCII only: the same text for the same values, on any machine.
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def chain_lock(connection: BaseDatabaseWrapper) -> None:
    """Makes writers of the audit table take turns until the current transaction ends.

    Without it two writers could read the same last event and both chain to it (a fork). On PostgreSQL a
    transaction-level advisory lock; on SQLite nothing is needed, because the portal opens every transaction
    with BEGIN IMMEDIATE (settings: ``transaction_mode``), which holds the database's one write lock.
    Call inside a transaction, as late in it as possible: other writers wait until it commits.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
