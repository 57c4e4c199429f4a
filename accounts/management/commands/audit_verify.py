"""``manage.py audit_verify``: checks the audit trail's hash chain and that the table is still append-only.

Walks every event in id order in batches (memory stays flat), stops at the first event that was changed or
that does not follow the one before it, and says which and why. Prints how many events it checked, the head
hash (keep that line elsewhere: a later run that no longer reaches it shows a rewritten or shortened trail)
and the time taken. Exits 0 when the chain is intact and the append-only triggers are in force, 1 otherwise.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import audit_chain_verify, audit_guard_missing


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero at the first deleted or changed event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000, help="Events read per query (default 5000).")

    def handle(self, *args: object, batch_size: int, **options: object) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()
        report = audit_chain_verify(batch_size=batch_size)
        elapsed = time.monotonic() - started
        self.stdout.write(f"Checked {report.events} audit events in {elapsed:.2f} s; head {report.head}")
        problems = []
        if report.first_break is not None:
            problems.append(f"Chain broken at event {report.first_break.event_id}: {report.first_break.problem}.")
        missing = audit_guard_missing()
        if missing:
            problems.append(f"The audit table accepts changes: trigger(s) {', '.join(missing)} missing or disabled.")
        if problems:
            raise CommandError(" ".join(problems), returncode=1)
        self.stdout.write(self.style.SUCCESS("The audit trail is intact."))
