"""The audit-trail benchmark (issue 10): ``.venv/bin/python -m bench.audit_chain``.

Measures, in a throw-away database (``BENCH_AUDIT_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/mintportal_bench_audit``, dropped and created; a ``sqlite:///`` URL works too):

1. the cost of one ``audit_record`` (chain lock, read of the last hash, SHA-256, insert, commit), median and
   p95 over ``--inserts`` calls, beside the plain insert it replaced, interleaved so both see the same machine;
   and of recording one launch outcome with its event (as every bulk row now does) beside the bare UPDATE;
2. the same with ``--writers`` threads appending at once (events/s), where the chain makes writers take turns;
3. ``manage.py audit_verify`` over ``--events`` events (filled quickly with correct hashes), in a child process:
   wall time and its peak RSS, which stays flat because the chain is walked in keyset batches.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import ROOT, percentile, run_together
from bench.world import database_only_setup, prepare_database

# A typical event: a launch outcome's detail.
DETAIL = {"launch_id": "3f6c1f9e-6d3b-4a57-9b0e-1b7f0c2e8d11", "bulk_id": "b5e3d0a1-0f47-4c8e-a7f6-2d9e3c1b4a55",
          "row": 1234, "step_id": "details"}




def measure_inserts(count: int) -> tuple[list[float], list[float]]:
    """Seconds per ``audit_record`` and per plain insert, interleaved, each in its own autocommit transaction."""
    from django.utils import timezone

    from accounts.models import AuditEvent
    from accounts.services import audit_record

    def plain() -> None:
        AuditEvent.objects.create(at=timezone.now(), actor_username="bench", action="journey.launch.started",
                                  workflow_id="wf-bench", journey_id="j-bench", summary="Journey started",
                                  detail=DETAIL)

    def chained() -> None:
        audit_record(actor=None, action="journey.launch.started", workflow_id="wf-bench", journey_id="j-bench",
                     summary="Journey started", detail=DETAIL)

    for _ in range(50):
        plain()
        chained()
    chained_times: list[float] = []
    plain_times: list[float] = []
    for _ in range(count):
        for call, times in ((chained, chained_times), (plain, plain_times)):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    return chained_times, plain_times


def measure_outcomes(count: int) -> tuple[list[float], list[float]]:
    """Seconds to record one launch outcome as launches.services does now (status UPDATE and its audit event in
    one transaction) and as it did before (the UPDATE alone), interleaved."""
    import uuid

    from django.contrib.auth.models import User
    from django.utils import timezone

    from launches.models import Launch, LaunchStatus

    # The very function every launch and bulk row records its outcome with, not a copy of it.
    from launches.services import _finish

    launcher, _ = User.objects.get_or_create(username="bench-launcher")
    launches = Launch.objects.bulk_create([
        Launch(key=uuid.uuid4().hex, workflow_id="wf-bench", workflow_name="Bench", input={}, journey_url_ttl=60,
               status=LaunchStatus.STARTING, created_by=launcher, created_at=timezone.now())
        for _ in range(2 * count)
    ])
    with_event, update_only = [], []
    for index in range(count):
        audited, bare = launches[2 * index], launches[2 * index + 1]
        started = time.perf_counter()
        _finish(audited, LaunchStatus.STARTED, journey_id=f"j-{index}", audit_detail={"step_id": "details"})
        with_event.append(time.perf_counter() - started)
        started = time.perf_counter()
        Launch.objects.filter(pk=bare.pk).update(status=LaunchStatus.STARTED, journey_id=f"j-b{index}",
                                                 finished_at=timezone.now())
        update_only.append(time.perf_counter() - started)
    return with_event, update_only


def measure_writers(writers: int, each: int, *, chained: bool) -> float:
    """Events per second with ``writers`` threads appending ``each`` events at once."""
    from django.db import connections
    from django.utils import timezone

    from accounts.models import AuditEvent
    from accounts.services import audit_record

    def write(_writer: int) -> None:
        try:
            for _ in range(each):
                if chained:
                    audit_record(actor=None, action="journey.launch.started", summary="x", detail=DETAIL)
                else:
                    AuditEvent.objects.create(at=timezone.now(), actor_username="bench",
                                              action="journey.launch.started", summary="x", detail=DETAIL)
        finally:
            connections.close_all()

    return writers * each / run_together(write, writers)


def fill(total: int) -> None:
    """Appends events with correct hashes until the trail holds ``total``, in large INSERTs (fast, not realistic)."""
    from accounts.audit_chain import GENESIS, event_hash
    from accounts.models import AuditEvent

    head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    have = AuditEvent.objects.count()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    while have < total:
        batch = []
        for index in range(have, min(total, have + 5000)):
            event = AuditEvent(at=start + timedelta(seconds=index), actor_username=f"user{index % 50}",
                               action="journey.launch.started", workflow_id=f"wf-{index % 20}",
                               journey_id=f"j-{index}", summary=f"Journey j-{index} started",
                               detail={**DETAIL, "row": index}, prev_hash=head)
            event.hash = head = event_hash(values=vars(event), prev_hash=head)
            batch.append(event)
        AuditEvent.objects.bulk_create(batch)
        have += len(batch)


VERIFY = """
import resource, time, django
django.setup()
from django.core.management import call_command
call_command("audit_verify")
print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
"""


def verify_in_child(env: dict[str, str]) -> tuple[float, str]:
    """(wall seconds including process start, output with the peak RSS) of ``audit_verify`` in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", VERIFY], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inserts", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    env = database_only_setup(name="audit")
    from django.db import connection

    print(f"database: {connection.display_name} {'.'.join(map(str, connection.get_database_version()))}")
    chained, plain = measure_inserts(args.inserts)
    ms = 1000
    print(f"audit_record with the chain: median {statistics.median(chained) * ms:.3f} ms, "
          f"p95 {percentile(chained, 0.95) * ms:.3f} ms over {args.inserts}")
    print(f"plain insert (before):       median {statistics.median(plain) * ms:.3f} ms, "
          f"p95 {percentile(plain, 0.95) * ms:.3f} ms over {args.inserts}")
    with_event, update_only = measure_outcomes(args.inserts)
    print(f"launch outcome with its event: median {statistics.median(with_event) * ms:.3f} ms, "
          f"p95 {percentile(with_event, 0.95) * ms:.3f} ms; the status UPDATE alone (before): median "
          f"{statistics.median(update_only) * ms:.3f} ms, p95 {percentile(update_only, 0.95) * ms:.3f} ms")
    each = max(1, args.inserts // args.writers)
    print(f"{args.writers} writers at once: chained {measure_writers(args.writers, each, chained=True):.0f} events/s, "
          f"plain {measure_writers(args.writers, each, chained=False):.0f} events/s")
    # The plain inserts above have no hashes; start the verified trail afresh.
    connection.close()
    prepare_database(env["DATABASE_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    for size in sorted({max(1, args.events // 10), args.events}):
        started = time.perf_counter()
        fill(size)
        print(f"filled to {size} events in {time.perf_counter() - started:.1f} s")
        connection.close()
        elapsed, output = verify_in_child(env)
        print(f"audit_verify at {size}: {elapsed:.2f} s wall with process start; " + output.replace("\n", "; "))

if __name__ == "__main__":
    main()
