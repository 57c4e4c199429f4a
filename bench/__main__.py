"""The scale benchmark (issue 6): ``make bench`` or ``.venv/bin/python -m bench``.

It builds a throw-away world and measures it, each figure beside the naive alternative in the same run:

1. a sandbox seeded with ``--journeys`` journeys (``python -m sandbox seed``), served over HTTP;
2. the first full sync into a fresh PostgreSQL database (time, Mint calls, peak RSS of the syncing process);
3. the journeys list (status filter + search + sort) under ``--clients`` concurrent clients against gunicorn
   (p50/p95/p99, requests/s, Mint calls per view), beside the same listing asked of Mint per view;
4. an incremental sync after ``--changes`` journeys changed in the sandbox (time, Mint calls), beside a full
   re-sync of the same state, ``--repeat`` rounds, medians;
5. a bulk launch of ``--rows`` CSV rows by ``--workers`` worker processes (journeys/s, duplicates, lost),
   beside launching one by one in a single process; then a smaller bulk launch during which one worker is
   killed with SIGKILL, to count duplicates and losses when a worker dies mid-way.

Needs PostgreSQL and Redis (``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/mintportal_bench``,
dropped and created; ``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/9``, flushed). Results go to
``bench/results/<timestamp>/results.json`` and a Markdown table is printed for bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import common
from bench.common import PYTHON, ROOT, Processes, log, wait_until
from bench.load import LoadResult, run_load
from bench.probes import WAITING_INPUT, WAITING_STEP, waiting_journey_ids
from bench.world import (
    Sandbox,
    counter_delta,
    django_setup,
    prepare_portal,
    run_json,
    sandbox_env,
    serve_sandbox,
    session_cookie,
    start_gunicorn,
    start_workers,
)

# Common surnames of the seeded journeys' names (the sandbox's demo names are Nordic).
SEARCH_TERMS = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Berg", "Nilsen", "Dahl")
LIST_STATUSES = ("active", "finished", "faulted", "cancelled")


def ratio(naive: float, ours: float) -> str:
    if not ours or not naive:
        return "n/a"
    return f"{naive / ours:.1f}×"


# --- the measurements -------------------------------------------------------------------------------------


def measure_sync(env: dict[str, str], sandbox: Sandbox, *, full: bool) -> dict[str, Any]:
    before = sandbox.counters()
    result = run_json([PYTHON, "-m", "bench.probes", "sync", *(["--full"] if full else [])], env)
    calls = counter_delta(before, sandbox.counters())
    result["mint_calls_counted"] = sum(calls.values())
    result["mint_calls_by_operation"] = calls
    return result


def listing_paths(count: int) -> list[str]:
    """Journeys list URLs: a status filter, a search and a sort, varied so no single query is hot."""
    paths = []
    sorts = ("-last", "name", "-created")
    for index in range(count):
        query = {"status": LIST_STATUSES[index % len(LIST_STATUSES)], "q": SEARCH_TERMS[index % len(SEARCH_TERMS)],
                 "sort": sorts[index % len(sorts)]}
        paths.append(f"/journeys/?{urlencode(query)}")
    return paths


def naive_listing_paths(count: int) -> list[str]:
    """The same lists asked of Mint directly, as a portal without a mirror would on every view."""
    paths = []
    sorts = ("-lastExecutedAt", "name", "-createdAt")
    for index in range(count):
        query = {"status": LIST_STATUSES[index % len(LIST_STATUSES)],
                 "search": SEARCH_TERMS[index % len(SEARCH_TERMS)], "sort": sorts[index % len(sorts)], "limit": 25}
        paths.append(f"/mint/journeys?{urlencode(query)}")
    return paths


def measure_listing(args: argparse.Namespace, processes: Processes, env: dict[str, str],
                    sandbox: Sandbox) -> dict[str, Any]:
    web, base = start_gunicorn(processes, env, args)
    cookie = {"Cookie": f"sessionid={session_cookie()}"}
    paths = listing_paths(48)
    # Warm up every worker and the per-scope caches, outside the measurement.
    run_load(base_url=base, paths=paths, headers=cookie, clients=args.clients, seconds=3)
    before = sandbox.counters()
    ours: LoadResult = run_load(base_url=base, paths=paths, headers=cookie, clients=args.clients,
                                seconds=args.duration)
    paced: LoadResult = run_load(base_url=base, paths=paths, headers=cookie, clients=args.clients,
                                 seconds=args.duration, interval=args.pace)
    calls = counter_delta(before, sandbox.counters())
    churning, churn = _while_the_mirror_changes(args, env, lambda: run_load(
        base_url=base, paths=paths, headers=cookie, clients=args.clients, seconds=args.duration))
    # The worst case for the cache: every request a list nobody asked for before (a query string never seen),
    # so every view runs its queries and renders. Far more paths than the run can send, each sent once.
    cold_paths = [f"{path}&view={index}" for index, path in enumerate(listing_paths(48) * 400)]
    cold: LoadResult = run_load(base_url=base, paths=cold_paths, headers=cookie, clients=args.clients,
                                seconds=args.duration)
    processes.stop(web)
    bearer = {"Authorization": f"Bearer {sandbox.token()}"}
    naive_paths = naive_listing_paths(48)
    run_load(base_url=sandbox.url, paths=naive_paths, headers=bearer, clients=args.clients, seconds=3)
    naive: LoadResult = run_load(base_url=sandbox.url, paths=naive_paths, headers=bearer, clients=args.clients,
                                 seconds=args.duration)
    naive_paced: LoadResult = run_load(base_url=sandbox.url, paths=naive_paths, headers=bearer,
                                       clients=args.clients, seconds=args.duration, interval=args.pace)
    views = ours.requests + paced.requests
    return {"mirror": ours.as_dict(), "mirror_paced": paced.as_dict(), "mirror_changing": churning.as_dict(),
            "mirror_uncached": cold.as_dict(),
            "churn": churn, "web": f"{args.web_workers} workers x {args.web_threads} threads",
            "mint_calls": sum(calls.values()),
            "views": views, "mint_calls_per_view": round(sum(calls.values()) / max(views, 1), 4),
            "naive_straight_from_mint": naive.as_dict(), "naive_paced": naive_paced.as_dict()}


def _while_the_mirror_changes(args: argparse.Namespace, env: dict[str, str],
                              load: Callable[[], LoadResult]) -> tuple[LoadResult, dict[str, Any]]:
    """Runs ``load`` while another process, every ``--churn-every`` seconds, continues ``--churn`` journeys in
    Mint and runs an incremental sync. Each sync that changes rows retires every cached list, so this measures
    the lists when they have to be rendered again, not only served from the cache."""
    churn = subprocess.Popen(
        [PYTHON, "-m", "bench.probes", "churn", "--count", str(args.churn), "--every", str(args.churn_every),
         "--seconds", str(args.duration)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    # The probe's first round starts ``--churn-every`` after its start; Django's start-up fits in that.
    result = load()
    out, _ = churn.communicate(timeout=args.duration + 120)
    if churn.returncode != 0:
        raise RuntimeError("the churn probe failed; see its output above")
    rounds = json.loads(out.strip().splitlines()[-1])
    return result, {"every_seconds": args.churn_every, "journeys_per_round": args.churn, **rounds}


def change_journeys(sandbox: Sandbox, count: int) -> int:
    """Continues ``count`` journeys waiting at the seeded address-change workflows' suspend step ("verify").

    Continuing runs the journey on (its ``lastExecutedAt`` moves), as case handlers do all day. A cancel from
    outside would not do: it changes the status without executing the journey, so only the webhook and the
    full reconcile see it (see README, "Running at scale").
    """
    ids = waiting_journey_ids(count)

    def resume(journey_id: str) -> None:
        sandbox.api("POST", f"journeys/{journey_id}/resume", json={"stepId": WAITING_STEP, "input": WAITING_INPUT})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(resume, ids))
    return len(ids)


def quiet_period(sandbox: Sandbox, seconds: float) -> None:
    """Moves the sandbox clock on, so earlier activity lies outside the next sync's overlap window.

    The overlap makes every incremental sync re-read what executed in the ``MINT_SYNC_OVERLAP_SECONDS``
    before its watermark; moving the clock puts the previous round's changes out of that window without
    waiting, so each round measures its own 1,000 changes.
    """
    sandbox.control("POST", "clock", json={"advance": seconds})


def measure_incremental(args: argparse.Namespace, env: dict[str, str], sandbox: Sandbox) -> dict[str, Any]:
    overlap = float(env["MINT_SYNC_OVERLAP_SECONDS"]) + 1
    rounds: list[dict[str, Any]] = []
    for round_number in range(args.repeat):
        # A quiet spell, then one journey executes and an (unmeasured) sync moves the watermark onto it, so
        # the earlier activity (and the seed's many journeys sharing one instant) lies outside the overlap.
        quiet_period(sandbox, overlap)
        change_journeys(sandbox, 1)
        measure_sync(env, sandbox, full=False)
        changed = change_journeys(sandbox, args.changes)
        incremental = measure_sync(env, sandbox, full=False)
        full = measure_sync(env, sandbox, full=True)
        log(f"  round {round_number + 1}: incremental {incremental['wall_seconds']} s "
            f"({incremental['mint_calls_counted']} calls, {incremental['upserted']} rows) vs full "
            f"{full['wall_seconds']} s "
            f"({full['mint_calls_counted']} calls)")
        rounds.append({"changed": changed, "incremental": incremental, "full_resync": full})
    return {
        "rounds": rounds, "overlap_seconds": overlap - 1,
        "incremental_seconds_median": statistics.median(r["incremental"]["wall_seconds"] for r in rounds),
        "incremental_calls_median": statistics.median(r["incremental"]["mint_calls_counted"] for r in rounds),
        "full_seconds_median": statistics.median(r["full_resync"]["wall_seconds"] for r in rounds),
        "full_calls_median": statistics.median(r["full_resync"]["mint_calls_counted"] for r in rounds),
    }


def launch_workflow(sandbox: Sandbox) -> str:
    """A workflow taking two inputs whose journeys wait for the end user's form (cheap for the engine)."""
    body = {
        "name": f"Bench launch {uuid.uuid4().hex[:6]}",
        "steps": [{"id": "details", "type": "form",
                   "properties": {"fields": [{"name": "phone", "label": "Phone", "type": "text"}]}},
                  {"id": "done", "type": "finish"}],
        "connections": [{"sourceStepId": "details", "targetStepId": "done"}],
        "inputParameters": [{"name": "email"}, {"name": "fullName"}],
        "tags": ["bench"],
    }
    response = sandbox.api("POST", "workflows", json=body)
    response.raise_for_status()
    return response.json()["id"]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("email,fullName\n")
        for index in range(rows):
            file.write(f"person{index}@example.com,Person {index}\n")


def bulk_counts(bulk_id: str) -> dict[str, int]:
    from django.db.models import Count

    from launches.models import Launch

    rows = Launch.objects.filter(bulk_id=uuid.UUID(bulk_id)).values_list("status").annotate(n=Count("id"))
    return dict(rows)


def run_bulk(args: argparse.Namespace, processes: Processes, env: dict[str, str], sandbox: Sandbox, *,
             rows: int, tag: str, kill_after: float | None = None) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from launches.models import BulkLaunch, Launch
    from launches.services import bulk_launch_confirm
    from workflows.sync import workflow_sync

    workflow_id = launch_workflow(sandbox)
    workflow_sync(workflow_id=workflow_id)
    csv_path = processes.workdir / f"bulk-{tag}.csv"
    write_csv(csv_path, rows)
    upload = run_json([PYTHON, "-m", "bench.probes", "upload", str(csv_path), workflow_id], env)
    workers = start_workers(processes, env, args.workers, tag)
    before = sandbox.counters()
    began = time.perf_counter()
    bulk_launch_confirm(bulk_id=upload["bulk_id"], actor=User.objects.get(username="bench"))
    killed = False
    recovered_by_sweeper = 0

    def finished() -> bool:
        return BulkLaunch.objects.get(pk=upload["bulk_id"]).status == "finished"

    if kill_after is not None:
        wait_until(lambda: bulk_counts(upload["bulk_id"]).get("started", 0) >= rows * kill_after, timeout=600,
                   what="the first part of the bulk launch")
        processes.stop(workers[0], kill=True)
        killed = True
        log(f"  killed worker {workers[0].pid} with SIGKILL at {bulk_counts(upload['bulk_id'])}")
        workers += start_workers(processes, env, 1, f"{tag}-replacement")
        recovered_by_sweeper = _sweep_when_stuck(upload["bulk_id"], finished)
    wait_until(finished, timeout=1800, what="the bulk launch to finish", interval=0.25)
    elapsed = time.perf_counter() - began
    counts = bulk_counts(upload["bulk_id"])
    calls = counter_delta(before, sandbox.counters())
    for worker in workers:
        processes.stop(worker)
    in_mint = sandbox.api("GET", "journeys", params={"workflowId": workflow_id, "limit": 1}).json()["totalCount"]
    started = counts.get("started", 0)
    review = counts.get("needs_review", 0)
    distinct = len(set(Launch.objects.filter(bulk_id=upload["bulk_id"], status="started")
                       .values_list("journey_id", flat=True)))
    return {
        "rows": rows, "upload": upload, "seconds": round(elapsed, 2),
        "journeys_per_second": round(started / elapsed, 1), "statuses": counts,
        "start_calls": calls.get("startJourney", 0), "journeys_in_mint": in_mint,
        # A journey in Mint beyond those recorded (and those flagged for review, which may or may not have
        # started) would be a duplicate, as would two rows recording the same journey.
        "duplicates": max(0, in_mint - started - review) + (started - distinct),
        "lost": counts.get("pending", 0) + counts.get("starting", 0),
        "worker_killed": killed, "sweeper_requeues": recovered_by_sweeper,
    }


def _sweep_when_stuck(bulk_id: str, finished: Callable[[], bool]) -> int:
    """Runs the periodic requeue (normally beat, every 20 seconds) once progress stops after the kill.

    The killed worker's unacknowledged chunk stays invisible in Redis until the broker's visibility timeout;
    the requeue service picks its rows up. Its waiting periods are shortened here only because the benchmark
    knows the worker is dead; in production they protect slow but living workers.
    """
    from datetime import timedelta
    from unittest import mock

    from django.test import override_settings

    from launches import services

    last, still_since = None, time.monotonic()
    while not finished():
        counts = bulk_counts(bulk_id)
        if counts != last:
            last, still_since = counts, time.monotonic()
        elif time.monotonic() - still_since > 5:
            # A lease of 0 bypasses the settings' minimum of 3: the worker is known dead.
            with mock.patch.object(services, "REQUEUE_AFTER", timedelta(0)), \
                    override_settings(LAUNCH_CLAIM_LEASE_SECONDS=0):
                acted = services.launch_requeue_stale()
            log(f"  no progress for 5 s at {counts}: the requeue acted on {acted}")
            return acted
        time.sleep(0.5)
    return 0


def measure_naive_launch(sandbox: Sandbox, rows: int) -> dict[str, Any]:
    """Starting journeys one by one from one process, as a request-bound loop would."""
    from mintportal.mint import get_client

    workflow_id = launch_workflow(sandbox)
    client = get_client()
    began = time.perf_counter()
    for index in range(rows):
        client.start_journey(workflow_id, input={"email": f"n{index}@example.com", "fullName": f"N {index}"},
                             journey_url_ttl=3600)
    elapsed = time.perf_counter() - began
    return {"rows": rows, "seconds": round(elapsed, 2), "journeys_per_second": round(rows / elapsed, 1)}


# --- the run --------------------------------------------------------------------------------------------


def seed_sandbox(args: argparse.Namespace, workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    target = workdir / "sandbox.sqlite3"
    if args.sandbox_db:
        log(f"copying the seeded sandbox database {args.sandbox_db}")
        shutil.copy(args.sandbox_db, target)
        subprocess.run([PYTHON, "-m", "sandbox", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        return {"seeded": "reused", "source": str(args.sandbox_db)}
    log(f"seeding the sandbox with {args.journeys:,} journeys (python -m sandbox seed)")
    began = time.perf_counter()
    completed = subprocess.run(
        [PYTHON, "-m", "sandbox", "seed", "--journeys", str(args.journeys), "--workflows", "20", "--runs", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    (workdir / "seed.log").write_text(completed.stdout + completed.stderr)
    return {"seeded": args.journeys, "seconds": round(time.perf_counter() - began, 1)}


def markdown(results: dict[str, Any]) -> str:
    sync, listing, inc = results["full_sync"], results["listing"], results["incremental"]
    bulk, naive_launch, kill = results["bulk"], results["naive_launch"], results.get("bulk_with_kill")
    ours, naive = listing["mirror"], listing["naive_straight_from_mint"]
    paced, naive_paced = listing["mirror_paced"], listing["naive_paced"]
    changing, cold = listing["mirror_changing"], listing["mirror_uncached"]
    lines = [
        f"Run {results['started_at']} on {results['machine']['cpus']} CPUs ({results['machine']['cpu']}), "
        f"{results['machine']['memory']}, Python {results['machine']['python']}; "
        f"{results['journeys_in_mirror']:,} journeys.",
        "",
        "| measure | portal | naive alternative (same run) | ratio |",
        "|---|---|---|---|",
        f"| journeys list, {results['args']['clients']} clients back to back: p50 / p95 / p99 | {ours['p50_ms']} / "
        f"{ours['p95_ms']} / {ours['p99_ms']} ms | {naive['p50_ms']} / {naive['p95_ms']} / {naive['p99_ms']} ms "
        f"(Mint's listing per view) | p95 {ratio(naive['p95_ms'], ours['p95_ms'])} |",
        f"| journeys list: requests/s (saturation) | {ours['per_second']} | {naive['per_second']} | "
        f"{ratio(ours['per_second'], naive['per_second'])} |",
        f"| journeys list, {results['args']['clients']} clients at one request per {results['args']['pace']} s: "
        f"p50 / p95 / p99 | {paced['p50_ms']} / {paced['p95_ms']} / {paced['p99_ms']} ms | "
        f"{naive_paced['p50_ms']} / {naive_paced['p95_ms']} / {naive_paced['p99_ms']} ms | "
        f"p95 {ratio(naive_paced['p95_ms'], paced['p95_ms'])} |",
        f"| journeys list, {results['args']['clients']} clients back to back while the mirror changes (a sync "
        f"of {listing['churn']['journeys_per_round']} continued journeys every {listing['churn']['every_seconds']} s, "
        f"{listing['churn']['syncs']} syncs): p50 / p95 / p99 | {changing['p50_ms']} / {changing['p95_ms']} / "
        f"{changing['p99_ms']} ms, {changing['per_second']} requests/s | — | — |",
        f"| journeys list, {results['args']['clients']} clients back to back, every view a list not cached "
        f"(unique query strings): p50 / p95 / p99 | {cold['p50_ms']} / {cold['p95_ms']} / {cold['p99_ms']} ms, "
        f"{cold['per_second']} requests/s | — | — |",
        f"| Mint calls per list view | {listing['mint_calls_per_view']} ({listing['mint_calls']} in "
        f"{listing['views']} views) | 1 | — |",
        f"| first full sync of {results['journeys_in_mirror']:,} journeys | {sync['wall_seconds']} s, "
        f"{sync['mint_calls_counted']} Mint calls, peak RSS {sync['peak_rss_mb']} MB | — | — |",
        f"| sync after {results['args']['changes']:,} changed (median of {results['args']['repeat']}) | "
        f"{inc['incremental_seconds_median']} s, {inc['incremental_calls_median']} Mint calls | "
        f"{inc['full_seconds_median']} s, {inc['full_calls_median']} Mint calls (full re-sync) | "
        f"{ratio(inc['full_seconds_median'], inc['incremental_seconds_median'])} time, "
        f"{ratio(inc['full_calls_median'], inc['incremental_calls_median'])} calls |",
        f"| bulk launch of {bulk['rows']:,} rows, {results['args']['workers']} workers | "
        f"{bulk['journeys_per_second']} journeys/s ({bulk['seconds']} s), {bulk['duplicates']} duplicates, "
        f"{bulk['lost']} lost | {naive_launch['journeys_per_second']} journeys/s (one by one, "
        f"{naive_launch['rows']} rows) | {ratio(bulk['journeys_per_second'], naive_launch['journeys_per_second'])} |",
        f"| CSV upload of {bulk['rows']:,} rows (streamed) | {bulk['upload']['seconds']} s, peak RSS "
        f"{bulk['upload']['peak_rss_mb']} MB (from {bulk['upload']['rss_before_mb']} MB) | — | — |",
    ]
    if kill:
        lines.append(
            f"| bulk launch of {kill['rows']:,} rows, one worker SIGKILLed mid-way | {kill['duplicates']} duplicates, "
            f"{kill['lost']} lost, {kill['statuses'].get('needs_review', 0)} needs review, "
            f"{kill['journeys_in_mint']} journeys in Mint for {kill['statuses'].get('started', 0)} started | — | — |"
        )
    return "\n".join(lines)


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = common.parser("python -m bench", __doc__)
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per listing measurement")
    parser.add_argument("--pace", type=float, default=1.0,
                        help="seconds between one paced client's requests (the paced load measurement)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--kill-rows", type=int, default=2_000, help="rows of the kill scenario (0 skips it)")
    parser.add_argument("--naive-rows", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--churn", type=int, default=20,
                        help="journeys continued in Mint per round while the list is measured as the mirror changes")
    parser.add_argument("--churn-every", type=float, default=5.0,
                        help="seconds between those rounds (each followed by an incremental sync)")
    parser.add_argument("--sandbox-db", type=Path, help="reuse a seeded sandbox SQLite file instead of seeding")
    return parser.parse_args(argv)


def build_world(args: argparse.Namespace, run: common.Run) -> tuple[Sandbox, dict[str, str]]:
    """The seeded sandbox, served, and a migrated portal over it; this process becomes one of its processes."""
    s_env = sandbox_env(run.workdir)
    run.results["seed"] = seed_sandbox(args, run.workdir, s_env)
    sandbox = serve_sandbox(run.processes, s_env)
    log("preparing PostgreSQL and Redis")
    env = prepare_portal(args, run.workdir, sandbox)
    django_setup(env)
    return sandbox, env


def measure_all(args: argparse.Namespace, run: common.Run, sandbox: Sandbox, env: dict[str, str]) -> None:
    """Steps 2 to 6 of the module's docstring, each result into ``run.results`` as soon as it is measured."""
    results = run.results
    log("first full sync")
    results["full_sync"] = measure_sync(env, sandbox, full=True)
    log(f"  {results['full_sync']}")
    from django.db import connection

    from journeys.models import Journey

    # A fresh table of 100,000 rows has no statistics yet; autovacuum would gather them within minutes.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE journeys_journey")
    results["journeys_in_mirror"] = Journey.objects.count()

    log(f"journeys list under {args.clients} clients for {args.duration} s (then the naive alternative)")
    results["listing"] = measure_listing(args, run.processes, env, sandbox)
    log(f"  {results['listing']}")

    log(f"incremental sync after {args.changes} changes vs full re-sync, {args.repeat} rounds")
    results["incremental"] = measure_incremental(args, env, sandbox)

    log(f"bulk launch of {args.rows} rows with {args.workers} workers")
    results["bulk"] = run_bulk(args, run.processes, env, sandbox, rows=args.rows, tag="main")
    log(f"  {results['bulk']}")
    log(f"naive launch of {args.naive_rows} journeys one by one")
    results["naive_launch"] = measure_naive_launch(sandbox, args.naive_rows)
    log(f"  {results['naive_launch']}")
    if args.kill_rows:
        log(f"bulk launch of {args.kill_rows} rows, killing one worker mid-way")
        results["bulk_with_kill"] = run_bulk(args, run.processes, env, sandbox, rows=args.kill_rows, tag="kill",
                                             kill_after=0.3)
        log(f"  {results['bulk_with_kill']}")


# The other benchmarks, as ``python -m bench <name> [options]``.
SUBCOMMANDS = ("webhooks", "outage", "chaos", "bulk", "search")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in SUBCOMMANDS:
        module = importlib.import_module(f"bench.{argv[0]}")
        return module.main(argv[1:])
    args = arguments(argv)
    with common.run("", args) as run:
        sandbox, env = build_world(args, run)
        measure_all(args, run, sandbox, env)
    run.publish(markdown(run.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
