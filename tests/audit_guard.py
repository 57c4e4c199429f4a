"""Lifting the audit table's append-only guard, as only its owner can: for the test flush and tamper tests.

The audit table refuses UPDATE, DELETE and TRUNCATE (accounts/migrations/0005_audit_append_only.py). Tests
that commit (``transactional_db``, live server, Celery worker) are cleaned up by Django's flush, which empties
every table; ``allow_audit_flush`` lets that flush through the guard, and tamper tests use
``audit_guard_lifted`` to delete or edit an event the way someone owning the database could.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from psycopg.errors import DeadlockDetected

TABLE = "accounts_auditevent"
FLUSH_ATTEMPTS = 5


@contextmanager
def audit_guard_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Within one transaction: the triggers are off (PostgreSQL) or dropped (SQLite), then back as they were."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            # The migration revoked these from the owner too; a superuser does not need them.
            cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON TABLE {TABLE} TO CURRENT_USER")
            yield
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {TABLE} FROM CURRENT_USER")
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            yield
            for _, sql in triggers:
                cursor.execute(sql)


def allow_audit_flush() -> None:
    """Wraps Django's test flush so that it empties the audit table too (once per process)."""
    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "lifts_audit_guard", False):
        return

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: Iterable[str]) -> None:
        for attempt in range(1, FLUSH_ATTEMPTS + 1):
            try:
                with audit_guard_lifted(self.connection):
                    original(self, sql_list)
                return
            except OperationalError as exc:
                # A Celery worker may still be finishing a task the test queued (a launch, say) and write to two
                # tables the flush locks one by one: PostgreSQL breaks the deadlock by failing one of them. The
                # flush's transaction is rolled back whole, so it goes again once the worker's has ended.
                if attempt == FLUSH_ATTEMPTS or not isinstance(exc.__cause__, DeadlockDetected):
                    raise

    execute_sql_flush.lifts_audit_guard = True  # type: ignore[attr-defined]
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
