"""``python -m bench.bulk [--journeys 1000] [--workers 2]``: bulk approve at scale (issue 14).

The world: a sandbox (empty), a fresh PostgreSQL database and Redis for the portal, ``--workers`` Celery worker
processes (``-P solo`` each). An approver whose team may approve every workflow (no approval policy: one approver
decides) bulk-approves ``--journeys`` journeys waiting at a ``require-approval`` step:

1. the dry run over the selection (seconds until the job is a draft: over 500 journeys the workers check them in
   chunk tasks) and the run after confirming, from the confirmation until the job is
   finished (journeys/s), with ``approveJourney`` calls in Mint and decisions recorded against journeys (0
   duplicates means one call and one decision per journey);
2. the same again with one worker killed with SIGKILL when a third of the journeys are done and a replacement
   started (as a supervisor would); beat's requeue (``bulk_job_requeue_stale``, run here every 2 s with a lease of
   ``--lease`` seconds) re-checks the item the dead worker held and queues its block again. Reported: journeys lost
   (not final, or never approved without an "outcome unknown" to say so), journeys approved twice, recovery time.

Writes ``bench/results/bulk-<timestamp>/results.json`` and prints a Markdown table (figures in bench/README.md,
"Bulk approve").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import common
from bench.common import PYTHON, ROOT, Processes, log, wait_until
from bench.world import Sandbox, counter_delta, django_setup, prepare_portal, sandbox_env, serve_sandbox, start_workers

APPROVER = "bench-approver"


def approval_workflow(sandbox: Sandbox) -> str:
    definition = {
        "name": f"Bulk approval {uuid.uuid4().hex[:8]}",
        "steps": [{"id": "name", "type": "set-name", "properties": {"template": "Case {{ input.case }}"}},
                  {"id": "check", "type": "require-approval"}, {"id": "end", "type": "finish"},
                  {"id": "stop", "type": "fault", "properties": {"message": "Rejected"}}],
        "connections": [{"sourceStepId": "name", "targetStepId": "check"},
                        {"sourceStepId": "check", "targetStepId": "end", "outcome": "Approved"},
                        {"sourceStepId": "check", "targetStepId": "stop", "outcome": "Rejected"}],
        "inputParameters": [{"name": "case"}],
    }
    response = sandbox.api("POST", "workflows", json=definition)
    response.raise_for_status()
    return response.json()["id"]


def waiting_journeys(sandbox: Sandbox, workflow_id: str, count: int, tag: str) -> list[str]:
    """Starts ``count`` journeys (they wait at ``check``) and mirrors each from its detail, as a journey page or the
    inbox's refresh would (the dry run reads the waiting steps from the mirror)."""
    from journeys.services.sync import journey_refresh

    def one(index: int) -> str:
        response = sandbox.api("POST", f"workflows/{workflow_id}/journeys", json={"input": {"case": f"{tag}-{index}"}})
        response.raise_for_status()
        journey_id = response.json()["journeyId"]
        journey_refresh(journey_id=journey_id)
        return journey_id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(count)))
    from django.db import connections

    connections.close_all()
    return ids


def approver() -> Any:
    from django.contrib.auth.models import Group, User

    from accounts.models import Action, Scope

    team, created = Group.objects.get_or_create(name="Bench approvers")
    if created:
        Scope.objects.create(team=team, name="Everything", actions=[Action.VIEW, Action.APPROVE], all_workflows=True)
    user, _ = User.objects.get_or_create(username=APPROVER)
    user.groups.add(team)
    return User.objects.get(pk=user.pk)


def dry_run(user: Any, journey_ids: list[str], timeout: float) -> tuple[Any, float]:
    """The dry run as the form starts it, until the job is a draft (a large selection is checked by the workers)."""
    from django.http import QueryDict

    from bulk.models import BulkJob, JobStatus
    from bulk.selectors import bulk_selection
    from bulk.services import bulk_job_create

    query = QueryDict(mutable=True)
    query.setlist("journey", journey_ids)
    began = time.perf_counter()
    job = bulk_job_create(user=user, action="approve", params={"reason": "bench"},
                          selection=bulk_selection(user=user, query=query), key=uuid.uuid4().hex)
    wait_until(lambda: BulkJob.objects.get(pk=job.pk).status == JobStatus.DRAFT, timeout=timeout,
               what="the dry run", interval=0.05)
    return BulkJob.objects.get(pk=job.pk), time.perf_counter() - began


def done(job_id: Any) -> int:
    from bulk.models import BulkItem, ItemStatus

    return BulkItem.objects.filter(job_id=job_id, status__in=ItemStatus.final()).count()


def moved_on(sandbox: Sandbox, workflow_id: str, journey_ids: list[str]) -> set[str]:
    """The journeys Mint has approved: past ``check``, so finished (read from Mint's listing, not the portal)."""
    wanted, offset = set(journey_ids), 0
    found: set[str] = set()
    while True:
        page = sandbox.api("GET", "journeys", params={"workflowId": workflow_id, "status": "finished",
                                                      "offset": offset, "limit": 100}).json()
        found.update(row["id"] for row in page["data"] if row["id"] in wanted)
        offset += len(page["data"])
        if not page["data"] or offset >= page["totalCount"]:
            return found


def outcome(job: Any, journey_ids: list[str], before: dict[str, int], sandbox: Sandbox,
            workflow_id: str) -> dict[str, Any]:
    from bulk.models import BulkItem, ItemStatus

    statuses: dict[str, int] = {}
    for status in BulkItem.objects.filter(job=job).values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    calls = counter_delta(before, sandbox.counters()).get("approveJourney", 0)
    unknown = set(BulkItem.objects.filter(job=job, status=ItemStatus.UNKNOWN).values_list("journey_id", flat=True))
    approved = moved_on(sandbox, workflow_id, journey_ids)
    # Mint refuses an approval of a step that no longer waits, so every call beyond one per approved journey was
    # a second attempt at one; a journey neither approved nor reported "outcome unknown" was lost.
    lost = len([j for j in journey_ids if j not in approved and j not in unknown])
    crash = BulkItem.objects.filter(job=job, outcome__contains="crash").count()
    return {"items": statuses, "approve_calls": calls, "approved_in_mint": len(approved),
            "duplicates": max(0, calls - len(approved)), "lost": lost, "outcome_unknown": len(unknown),
            "rechecked_after_crash": crash}


def clean_run(args: argparse.Namespace, sandbox: Sandbox, env: dict[str, str], processes: Processes,
              user: Any, workflow_id: str) -> dict[str, Any]:
    from bulk.services import bulk_job_confirm

    log(f"clean run: {args.journeys} journeys, {args.workers} workers")
    ids = waiting_journeys(sandbox, workflow_id, args.journeys, "clean")
    workers = start_workers(processes, env, args.workers, "clean")
    job, dry_seconds = dry_run(user, ids, args.timeout)
    log(f"  dry run {dry_seconds:.1f} s: {job.will_act} will act")
    before = sandbox.counters()
    began = time.perf_counter()
    bulk_job_confirm(user=user, job_id=job.id)
    wait_until(lambda: done(job.id) == job.will_act, timeout=args.timeout, what="the bulk approve", interval=0.05)
    seconds = time.perf_counter() - began
    for worker in workers:
        processes.stop(worker)
    result = {"journeys": args.journeys, "workers": args.workers, "dry_run_s": round(dry_seconds, 2),
              "seconds": round(seconds, 2), "journeys_per_s": round(job.will_act / seconds, 1),
              **outcome(job, ids, before, sandbox, workflow_id)}
    log(f"  {result['journeys_per_s']} journeys/s, {result['duplicates']} duplicates, {result['lost']} lost")
    return result


def kill_run(args: argparse.Namespace, sandbox: Sandbox, env: dict[str, str], processes: Processes,
             user: Any, workflow_id: str) -> dict[str, Any]:
    from django.conf import settings

    from bulk.services import bulk_job_confirm, bulk_job_requeue_stale

    # What beat does every 20 s, here every 2 s with a short lease, so the run shows recovery without waiting.
    settings.BULK_CLAIM_LEASE_SECONDS = args.lease
    log(f"kill run: {args.journeys} journeys, {args.workers} workers, one SIGKILLed at a third")
    ids = waiting_journeys(sandbox, workflow_id, args.journeys, "kill")
    workers = start_workers(processes, env, args.workers, "kill")
    job, _ = dry_run(user, ids, args.timeout)
    before = sandbox.counters()
    began = time.perf_counter()
    bulk_job_confirm(user=user, job_id=job.id)
    wait_until(lambda: done(job.id) >= job.will_act // 3, timeout=args.timeout, what="a third", interval=0.02)
    processes.stop(workers[0], kill=True)
    killed_at = time.perf_counter()
    log(f"  killed worker {workers[0].pid} at {done(job.id)} done; starting a replacement")
    workers[0] = start_workers(processes, env, 1, "kill-replacement")[0]
    deadline = time.monotonic() + args.timeout
    while done(job.id) < job.will_act and time.monotonic() < deadline:
        bulk_job_requeue_stale()
        time.sleep(2)
    seconds = time.perf_counter() - began
    for worker in workers:
        processes.stop(worker)
    result = {"journeys": args.journeys, "workers": args.workers, "seconds": round(seconds, 2),
              "after_kill_s": round(time.perf_counter() - killed_at, 2), "lease_s": args.lease,
              **outcome(job, ids, before, sandbox, workflow_id)}
    log(f"  {result['lost']} lost, {result['duplicates']} duplicates, {result['outcome_unknown']} unknown, "
        f"{result['rechecked_after_crash']} re-checked")
    return result


def markdown(results: dict[str, Any]) -> str:
    clean, kill = results["clean"], results.get("kill")
    lines = [
        "| bulk approve | journeys | workers | dry run | run | journeys/s | Mint approve calls | duplicates | lost |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| clean | {clean['journeys']} | {clean['workers']} | {clean['dry_run_s']} s | {clean['seconds']} s | "
        f"{clean['journeys_per_s']} | {clean['approve_calls']} | {clean['duplicates']} | {clean['lost']} |",
    ]
    if kill is None:
        return "\n".join(lines)
    return "\n".join([*lines,
        f"| one worker SIGKILLed at a third | {kill['journeys']} | {kill['workers']} | | {kill['seconds']} s | "
        f"| {kill['approve_calls']} | {kill['duplicates']} | {kill['lost']} "
        f"({kill['outcome_unknown']} outcome unknown; {kill['rechecked_after_crash']} re-checked after the kill) |",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench.bulk", __doc__)
    parser.add_argument("--journeys", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lease", type=int, default=5, help="seconds before a dead worker's item is re-checked")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--clean-only", action="store_true", help="measure the clean run only (no worker killed)")
    args = parser.parse_args(argv)
    with common.run("bulk", args) as run:
        s_env = sandbox_env(run.workdir)
        subprocess.run([PYTHON, "-m", "sandbox", "migrate"], cwd=ROOT, env=s_env, check=True, capture_output=True)
        sandbox = serve_sandbox(run.processes, s_env)
        env = prepare_portal(args, run.workdir, sandbox, BULK_CHUNK_SIZE=str(args.chunk_size))
        django_setup(env)
        user = approver()
        workflow_id = approval_workflow(sandbox)
        from django.utils import timezone

        from accounts.models import WorkflowRecord

        WorkflowRecord.objects.update_or_create(pk=workflow_id, defaults={"name": "Bulk approval", "tags": [],
                                                                          "seen_at": timezone.now()})
        run.results["clean"] = clean_run(args, sandbox, env, run.processes, user, workflow_id)
        if not args.clean_only:
            run.results["kill"] = kill_run(args, sandbox, env, run.processes, user, workflow_id)
    run.publish(markdown(run.results))
    kill = run.results.get("kill", {})
    bad = run.results["clean"]["duplicates"] or kill.get("duplicates") or kill.get("lost")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
