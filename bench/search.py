"""The business-data search benchmark (issue 14): ``.venv/bin/python -m bench.search [--journeys 100000]``.

1. **Mirror.** A fresh PostgreSQL database (``--database-url``, dropped and created) is migrated and filled with
   ``--journeys`` mirror rows over 20 workflows in one ``INSERT … SELECT generate_series`` (fast, not realistic):
   each with an input (``customerNumber`` C-<100000+i>, ``product``) and step data (``risk.score`` 0–99,
   ``details.email``, ``details.city``, ``review.signedAt``); every 10th journey waits at a suspend step, every
   50th faulted with an alert at step ``check``. Then ``VACUUM ANALYZE`` (as autovacuum would after a bulk load).
2. **List and search**, through the selector the list view calls (``journeys.selectors.journey_list``: the count,
   the first page of 25 rows and their current steps; no template rendering, which the screen cache saves on
   repeat views anyway), each call from a freshly loaded user as a request would:
   - sequential medians (``--repeat``) of the unfiltered first page (the **baseline**), an equality filter on a
     random customer number, a numeric range, a case-insensitive contains, the equality filter with a narrow
     scope, ``waiting at step``, and the count alone (exact ``COUNT(*)`` against the list's bounded count with its
     estimate past ``EXACT_COUNT_LIMIT``);
   - ``--clients`` threads (own database connections) each sending one equality search per second for
     ``--seconds`` (a steady 20 requests/s, as the scale benchmark's paced run), then back to back, ``--requests``
     each (saturation): p50 / p95 / p99 and throughput, and the same for the unfiltered first page. The clients
     are threads of this one Python process, so the GIL adds to what a multi-process server would show.
3. **Incremental sync after ``--changes`` changes, data included**: a sandbox (``python -m sandbox``, served over
   HTTP) gets a workflow whose journeys wait at a suspend step and ``--changes`` + 1 journeys; they are mirrored
   (a full sync, before the fill, so the fill's rows are not marked gone), the mirror is filled, the sandbox clock
   moves past the sync overlap, one journey executes and an unmeasured sync moves the watermark onto it; then the
   ``--changes`` journeys are continued with new data and one incremental sync runs in a process of its own
   (``bench.probes sync``): its time, its Mint calls (sandbox counters) and how many details it read.

Results go to ``bench/results/search-<timestamp>/`` (results.json, results.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import common
from bench.common import PYTHON, ROOT, log, percentile, timed
from bench.world import counter_delta, django_setup, prepare_portal, run_json, sandbox_env, serve_sandbox

WORKFLOWS = 20
FIRST = 100_000
CITIES = ("Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø")
PRODUCTS = ("savings", "loan", "card", "pension")

FILL_SQL = """
INSERT INTO journeys_journey (id, workflow_id, workflow_name, version, status, name, created_at, last_executed_at,
    finished_at, faulted_at, pending_steps, alerts, data, alert_count, alert_level, waiting_since, detail_seen_at,
    seen_at)
SELECT 'j-' || lpad(i::text, 7, '0'), 'wf-' || (i % {workflows}), 'Workflow ' || (i % {workflows}), 1,
    CASE WHEN i % 10 = 0 THEN 'active' WHEN i % 50 = 1 THEN 'faulted' ELSE 'finished' END,
    'Journey ' || i, at, at,
    CASE WHEN i % 10 <> 0 AND i % 50 <> 1 THEN at END, CASE WHEN i % 50 = 1 THEN at END,
    i % 10 = 0,
    CASE WHEN i % 50 = 1 THEN '[{{"stepId": "check", "severity": "critical", "message": "Registry down"}}]'::jsonb
         ELSE '[]'::jsonb END,
    jsonb_build_object(
        'input', jsonb_build_object('customerNumber', 'C-' || ({first} + i),
                                    'product', (ARRAY{products})[i % 4 + 1]),
        'steps', jsonb_build_object(
            'risk', jsonb_build_object('score', (i::bigint * 7919) % 100),
            'details', jsonb_build_object('email', 'user' || i || '@example.com',
                                          'city', (ARRAY{cities})[i % 5 + 1]),
            'review', jsonb_build_object('signedAt', to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))),
    CASE WHEN i % 50 = 1 THEN 1 ELSE 0 END, CASE WHEN i % 50 = 1 THEN 3 ELSE 0 END,
    CASE WHEN i % 10 = 0 THEN at END, at, at
FROM generate_series(0, {count} - 1) AS i,
     LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second' AS at) AS stamp
"""
STEPS_SQL = """
INSERT INTO journeys_waitingstep (journey_id, step_id, step_type, position)
SELECT 'j-' || lpad(i::text, 7, '0'), 'verify', 'suspend', 0 FROM generate_series(0, {count} - 1, 10) AS i
"""


def sql_array(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def fill(count: int) -> float:
    """Fills the mirror with ``count`` synthetic journeys (see the module doc); returns the seconds taken."""
    from django.contrib.auth.models import Group, User
    from django.db import connection

    from accounts.models import Action, Scope

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL.format(workflows=WORKFLOWS, first=FIRST, count=count,
                                       products=sql_array(PRODUCTS), cities=sql_array(CITIES)))
        cursor.execute(STEPS_SQL.format(count=count))
        # What autovacuum does soon after a bulk load: statistics, and the visibility map index-only scans need.
        cursor.execute("VACUUM ANALYZE journeys_journey")
        cursor.execute("VACUUM ANALYZE journeys_waitingstep")
    if not User.objects.filter(username="search-admin").exists():
        User.objects.create_superuser("search-admin")
        narrow = Group.objects.create(name="Search narrow")
        Scope.objects.create(team=narrow, name="Two", workflow_ids=["wf-1", "wf-2"], actions=[Action.VIEW])
        User.objects.create_user("search-narrow").groups.add(narrow)
    return time.perf_counter() - began


def list_call(username: str, lines: Callable[[], list[str]], **extra: Any) -> Callable[[], Any]:
    """One list request's selector work: a fresh user, the filters parsed as the form does, count and page."""
    from django.contrib.auth.models import User

    from journeys.datafilter import parse_conditions
    from journeys.selectors import JourneyFilters, journey_list

    def call() -> Any:
        user = User.objects.get(username=username)
        conditions, problems = parse_conditions(lines())
        assert not problems, problems
        page = journey_list(user=user, filters=JourneyFilters(data=conditions, **extra), page=1, per_page=25)
        return page.paginator.count, len(page.object_list)

    return call


def random_customer(count: int) -> Callable[[], list[str]]:
    return lambda: [f"customerNumber = C-{FIRST + random.randrange(count)}"]




def concurrent(call: Callable[[], Any], clients: int, requests: int) -> dict[str, float]:
    """``clients`` threads, each with its own database connection, calling back to back ``requests`` times."""
    from django.db import connection

    seconds: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(_: int) -> None:
        try:
            start.wait()
            mine = timed(call, requests)
            with lock:
                seconds.extend(mine)
        finally:
            connection.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - began
    return {"p50_ms": round(percentile(seconds, 0.5) * 1000, 1), "p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
            "p99_ms": round(percentile(seconds, 0.99) * 1000, 1), "requests": len(seconds),
            "per_second": round(len(seconds) / elapsed, 1)}


def measure_list(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from journeys.selectors import JourneyFilters, JourneyPaginator, journey_queryset

    count = args.journeys
    calls: list[tuple[str, Callable[[], Any], int]] = [
        ("baseline: unfiltered first page (count + 25 rows)", list_call("search-admin", list), args.repeat),
        ("customerNumber = <random> (equality, GIN)", list_call("search-admin", random_customer(count)),
         args.repeat),
        ("customerNumber = <random>, narrow scope (2 of 20 workflows)",
         list_call("search-narrow", random_customer(count)), args.repeat),
        ("customerNumber = <random> and status active", list_call("search-admin", random_customer(count),
                                                                  status="active"), args.repeat),
        ("risk.score > 98 (numeric range, 1 % of rows)", list_call("search-admin", lambda: ["risk.score > 98"]),
         args.slow_repeat),
        ("details.email ~ <random> (contains)", list_call("search-admin", lambda: [
            f"details.email ~ USER{random.randrange(count)}@"]), args.slow_repeat),
        ("waiting at step verify (step filter)", list_call("search-admin", list, step="verify"), args.repeat),
    ]
    figures: dict[str, Any] = {}
    for label, call, repeat in calls:
        call()
        seconds = timed(call, repeat)
        figures[label] = {"median_ms": round(statistics.median(seconds) * 1000, 2),
                          "p95_ms": round(percentile(seconds, 0.95) * 1000, 2), "repeat": repeat}
        log(f"  {label}: {figures[label]}")
    admin = User.objects.get(username="search-admin")
    exact = timed(lambda: journey_queryset(user=admin, filters=JourneyFilters()).count(), args.slow_repeat)
    bounded = timed(lambda: JourneyPaginator(journey_queryset(user=admin, filters=JourneyFilters()), 25).count,
                    args.slow_repeat)
    paginator = JourneyPaginator(journey_queryset(user=admin, filters=JourneyFilters()), 25)
    figures["count: exact COUNT(*) of the visible rows"] = {"median_ms": round(statistics.median(exact) * 1000, 2)}
    figures["count: the list's (bounded, then estimated)"] = {
        "median_ms": round(statistics.median(bounded) * 1000, 2), "shown": paginator.count,
        "estimated": paginator.estimated}
    log(f"  counts: exact {statistics.median(exact) * 1000:.1f} ms, the list's {statistics.median(bounded) * 1000:.1f}"
        f" ms (shows {paginator.count:,}, estimated {paginator.estimated})")
    return figures


def paced(call: Callable[[], Any], clients: int, seconds: float) -> dict[str, float]:
    """``clients`` threads each sending one request per second (a steady offered load of ``clients`` requests/s,
    as the scale benchmark's paced run), for ``seconds``."""
    from django.db import connection

    latencies: list[float] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        try:
            # Spread over the first second, so the clients do not send in lockstep.
            due = time.perf_counter() + number / clients
            end = due + seconds
            while due < end:
                time.sleep(max(0.0, due - time.perf_counter()))
                began = time.perf_counter()
                call()
                with lock:
                    latencies.append(time.perf_counter() - began)
                due += 1.0
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return {"p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1), "requests": len(latencies),
            "per_second": round(len(latencies) / seconds, 1)}


def measure_concurrent(args: argparse.Namespace) -> dict[str, Any]:
    search = list_call("search-admin", random_customer(args.journeys))
    first_page = list_call("search-admin", list)
    figures = {
        "search_paced": paced(search, args.clients, args.seconds),
        "first_page_paced": paced(first_page, args.clients, args.seconds),
        "search": concurrent(search, args.clients, args.requests),
        "first_page": concurrent(first_page, args.clients, args.requests),
    }
    for label, figure in figures.items():
        log(f"  {label}, {args.clients} clients: {figure}")
    return figures


# --- the sync --------------------------------------------------------------------------------------------------


class SyncWorld:
    """A sandbox whose journeys wait at a suspend step, mirrored, for the incremental sync after changes."""

    def __init__(self, run: common.Run, args: argparse.Namespace) -> None:
        s_env = sandbox_env(run.workdir)
        subprocess.run([PYTHON, "-m", "sandbox", "migrate"], cwd=ROOT, env=s_env, check=True, capture_output=True)
        self.sandbox = serve_sandbox(run.processes, s_env)
        self.env = prepare_portal(args, run.workdir, self.sandbox)
        body = {"name": "Bench search", "tags": ["bench"],
                "steps": [{"id": "verify", "type": "suspend"}, {"id": "done", "type": "finish"}],
                "connections": [{"sourceStepId": "verify", "targetStepId": "done"}],
                "inputParameters": [{"name": "customerNumber"}]}
        response = self.sandbox.api("POST", "workflows", json=body)
        response.raise_for_status()
        workflow_id = response.json()["id"]

        def start(number: int) -> str:
            answer = self.sandbox.api("POST", f"workflows/{workflow_id}/journeys",
                                      json={"input": {"customerNumber": f"S-{number}"}})
            answer.raise_for_status()
            return str(answer.json()["journeyId"])

        log(f"  starting {args.changes + 1} journeys in the sandbox")
        with ThreadPoolExecutor(max_workers=8) as pool:
            self.journey_ids = list(pool.map(start, range(args.changes + 1)))

    def sync(self, *, full: bool = False) -> dict[str, Any]:
        before = self.sandbox.counters()
        result = run_json([PYTHON, "-m", "bench.probes", "sync", *(["--full"] if full else [])], self.env)
        calls = counter_delta(before, self.sandbox.counters())
        return {**result, "mint_calls_counted": sum(calls.values()), "mint_calls_by_operation": calls}

    def resume(self, journey_ids: list[str]) -> None:
        def one(journey_id: str) -> None:
            response = self.sandbox.api("POST", f"journeys/{journey_id}/resume", json={
                "stepId": "verify", "input": {"verified": True, "score": random.randrange(100)}})
            response.raise_for_status()

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(one, journey_ids))

    def incremental_after_changes(self) -> dict[str, Any]:
        overlap = float(self.env["MINT_SYNC_OVERLAP_SECONDS"]) + 1
        self.sandbox.control("POST", "clock", json={"advance": overlap})
        self.resume(self.journey_ids[:1])
        self.sync()
        changed = self.journey_ids[1:]
        self.resume(changed)
        result = self.sync()
        log(f"  incremental sync after {len(changed)} changes: {result['wall_seconds']} s, "
            f"{result['mint_calls_counted']} Mint calls, {result['details']} details")
        return {"changed": len(changed), **result}


def markdown(results: dict[str, Any]) -> str:
    listing, crowd, sync = results["list"], results["concurrent"], results["sync"]
    baseline = listing["baseline: unfiltered first page (count + 25 rows)"]["median_ms"]
    lines = [f"### {results['journeys']:,} journeys (run {results['started_at']})", "",
             "| measurement | median | p95 | × baseline |", "|---|---|---|---|"]
    for label, figure in listing.items():
        if "p95_ms" in figure:
            lines.append(f"| {label} | {figure['median_ms']} ms | {figure['p95_ms']} ms | "
                         f"{figure['median_ms'] / baseline:.1f}× |")
        else:
            shown = f" (shows {figure['shown']:,}{', estimated' if figure.get('estimated') else ''})" \
                if "shown" in figure else ""
            lines.append(f"| {label}{shown} | {figure['median_ms']} ms | — | {figure['median_ms'] / baseline:.1f}× |")
    clients = results["args"]["clients"]
    for label, key in (("equality search", "search"), ("unfiltered first page", "first_page")):
        figure = crowd[f"{key}_paced"]
        lines.append(f"| {label}, {clients} clients at 1 request/s each ({figure['requests']} requests) "
                     f"| {figure['p50_ms']} ms | {figure['p95_ms']} ms (p99 {figure['p99_ms']} ms) | — |")
        figure = crowd[key]
        lines.append(f"| {label}, {clients} clients back to back ({figure['requests']} requests, "
                     f"{figure['per_second']}/s) | {figure['p50_ms']} ms | {figure['p95_ms']} ms "
                     f"(p99 {figure['p99_ms']} ms) | — |")
    lines.append(f"| incremental sync after {sync['changed']:,} changes, data included | {sync['wall_seconds']} s "
                 f"| {sync['mint_calls_counted']} Mint calls, {sync['details']} details read | — |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench.search", __doc__)
    parser.add_argument("--journeys", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20, help="requests per client in the back-to-back runs")
    parser.add_argument("--seconds", type=float, default=20, help="length of the paced runs (1 request/s/client)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--slow-repeat", type=int, default=7, help="repeats of the filters that read every row")
    args = parser.parse_args(argv)
    random.seed(14)
    with common.run("search", args) as run:
        log("sandbox, portal database, journeys to change")
        world = SyncWorld(run, args)
        log("first full sync of the sandbox's journeys")
        run.results["first_sync"] = world.sync(full=True)
        django_setup(world.env)
        log(f"filling the mirror with {args.journeys:,} journeys")
        run.results["fill_seconds"] = round(fill(args.journeys), 1)
        run.results["journeys"] = args.journeys
        log("list and search, sequential")
        run.results["list"] = measure_list(args)
        log(f"list and search, {args.clients} clients")
        run.results["concurrent"] = measure_concurrent(args)
        log(f"incremental sync after {args.changes} changes")
        run.results["sync"] = world.incremental_after_changes()
        run.publish(markdown(run.results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
