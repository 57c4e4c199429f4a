"""``python -m bench chaos [--minutes 5] [--seed N]``: the chaos soak of issue 11.

A small world (``bench.world.small_world``: the sandbox's demo data mirrored into a fresh PostgreSQL database,
Redis as cache and broker, gunicorn) plus ``--workers`` Celery workers and one beat (which runs the periodic
requeue every 20 s). For ``--minutes`` minutes:

- ``--clients`` browsing clients each ask for a page every ``--pace`` seconds, in turn the journeys list, the
  "My work" inbox, a journey page (read live from Mint) and the dashboard;
- one launcher records ``--rate`` launches per second through the portal's launch service (``launch_create``,
  what the launch form calls), each with a unique input value ``launch`` that a ``set-name`` step copies into
  its journey's name, so every journey in Mint names the launch that started it;
- every minute one fault, drawn from a seeded ``random.Random``, is put on the sandbox through its control API
  for 10–20 s (every Mint API call answering 503 + Retry-After, 429 + Retry-After, or 20 s late; or every access
  token revoked at once), and one Celery worker, drawn at random, is killed with SIGKILL and replaced (as a
  supervisor would).

Then the faults are cleared, the load stops, and the run waits (at most ``--drain`` seconds) for every launch
to be started or flagged by the requeue. It reports requests/s, p95/p99 per page, errors by class, launches
requested vs journeys in Mint, duplicates, launches left pending or needing review, and the longest recovery.

Recovery of one fault (or worker kill), from its end E (the fault cleared, the token revoked, the worker killed)
until the next fault starts or the drain ends (the window):

- pages: the time from E until the start of the first page request after which every page request started in
  the window answered 200 without the "Mint unavailable" banner (0 when all did);
- launches: the time from E until the first launch requested at or after E was recorded started (its journey
  in Mint);
- recovery: the larger of the two; not recovered within the window counts as a miss.

Exits 1 when the issue's bar is missed: a launch without a journey in Mint that is not flagged needs review,
a duplicate (two journeys naming one launch, or a journey naming none), a portal 5xx, or a recovery of 60 s or
more (or none). Needs PostgreSQL and Redis like ``python -m bench``. Writes
``bench/results/chaos-<timestamp>/results.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import common
from bench.common import PYTHON, Processes, log, wait_until
from bench.load import percentiles, run_load
from bench.world import Sandbox, session_cookie, small_world, start_workers

BANNER = 'id="mint-outage"'
RECOVERY_BAR_SECONDS = 60.0
# Kinds of fault, each a control-API call; the first three last a drawn while, revocation is instant.
FAULTS: dict[str, dict[str, Any] | None] = {
    "503 + Retry-After 5": {"path": "^/mint/", "status": 503, "retryAfter": 5},
    "429 + Retry-After 5": {"path": "^/mint/", "status": 429, "retryAfter": 5},
    "20 s latency": {"path": "^/mint/", "latencyMs": 20_000},
    "token revocation": None,
}


@dataclass(frozen=True)
class Hit:
    """One page request: when it started (epoch seconds), which page, how it ended, how long it took."""

    at: float
    page: str
    outcome: str  # ok, portal_5xx, portal_4xx, redirect, timeout, connection
    ms: float
    banner: bool

    @property
    def healthy(self) -> bool:
        return self.outcome == "ok" and not self.banner


@dataclass
class Event:
    kind: str
    start: float
    end: float
    detail: str = ""


def chaos_workflow(sandbox: Sandbox) -> str:
    """A workflow whose journeys take their name from the input ``launch`` and then wait for a form."""
    body = {
        "name": f"Chaos soak {int(time.time())}",
        "steps": [{"id": "name", "type": "set-name", "properties": {"template": "chaos {{ input.launch }}"}},
                  {"id": "details", "type": "form",
                   "properties": {"fields": [{"name": "phone", "label": "Phone", "type": "text"}]}},
                  {"id": "done", "type": "finish"}],
        "connections": [{"sourceStepId": "name", "targetStepId": "details"},
                        {"sourceStepId": "details", "targetStepId": "done"}],
        "inputParameters": [{"name": "launch"}],
        "tags": ["bench"],
    }
    response = sandbox.api("POST", "workflows", json=body)
    response.raise_for_status()
    return response.json()["id"]


def page_paths(workflow_id: str) -> dict[str, list[str]]:
    from journeys.models import Journey

    journeys = [f"/journeys/{pk}" for pk in Journey.objects.exclude(workflow_id=workflow_id)
                .order_by("id").values_list("id", flat=True)[:30]]
    return {"journeys list": ["/journeys/", "/journeys/?status=active", "/journeys/?q=a&sort=name"],
            "inbox": ["/approvals/"], "journey page": journeys, "dashboard": ["/"]}


def browse(base: str, headers: dict[str, str], paths: dict[str, list[str]], *, index: int, pace: float,
           timeout: float, stop: threading.Event, hits: list[Hit]) -> None:
    """One browsing client: a page every ``pace`` seconds, the page kinds in turn, until ``stop``."""
    port = int(base.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    kinds = list(paths)
    turn = index
    next_at = time.monotonic() + pace * index / 20
    while not stop.is_set():
        pause = next_at - time.monotonic()
        if pause > 0 and stop.wait(pause):
            break
        next_at = max(next_at + pace, time.monotonic())
        kind = kinds[turn % len(kinds)]
        path = paths[kind][(turn // len(kinds)) % len(paths[kind])]
        turn += 1
        at, began = time.time(), time.perf_counter()
        banner = False
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            status = response.status
            outcome = ("ok" if status == 200 else "portal_5xx" if status >= 500 else "portal_4xx" if status >= 400
                       else "redirect")
            banner = BANNER.encode() in body
        except TimeoutError:
            outcome = "timeout"
        except (OSError, http.client.HTTPException):
            outcome = "connection"
        if outcome in ("timeout", "connection"):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        hits.append(Hit(at=at, page=kind, outcome=outcome, ms=(time.perf_counter() - began) * 1000, banner=banner))
    connection.close()


def launcher(*, workflow_id: str, rate: float, prefix: str, stop: threading.Event,
             requested: list[tuple[str, float]], refused: list[str]) -> None:
    """Records ``rate`` launches a second through the launch service, each naming itself in its input."""
    from django.contrib.auth.models import User
    from django.db import connection

    from launches.services import launch_create

    actor = User.objects.get(username="bench")
    number = 0
    next_at = time.monotonic()
    try:
        while not stop.is_set():
            pause = next_at - time.monotonic()
            if pause > 0 and stop.wait(pause):
                break
            next_at += 1 / rate
            key = f"{prefix}-{number}"
            number += 1
            at = time.time()
            try:
                launch_create(workflow_id=workflow_id, input={"launch": key}, journey_url_ttl=3600, actor=actor,
                              key=key)
            except Exception as exc:  # noqa: BLE001 - any refusal is a finding to report, not a crash
                refused.append(f"{key}: {type(exc).__name__}: {exc}"[:300])
                continue
            requested.append((key, at))
    finally:
        connection.close()


def sample_load(stop: threading.Event, loads: list[float]) -> None:
    """The machine's one-minute load average (as ``uptime`` shows it) every 10 s until ``stop``."""
    while True:
        loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
        if stop.wait(10):
            return


def journeys_in_mint(sandbox: Sandbox, workflow_id: str) -> Counter[str]:
    """Names of the workflow's journeys in Mint (through its API), counted."""
    names: Counter[str] = Counter()
    offset = 0
    while True:
        page = sandbox.api("GET", "journeys", params={"workflowId": workflow_id, "limit": 100,
                                                      "offset": offset, "sort": "createdAt"})
        page.raise_for_status()
        body = page.json()
        names.update(journey["name"] for journey in body["data"])
        offset += len(body["data"])
        if not body["data"] or offset >= body["totalCount"]:
            return names


def page_recovery(hits: list[Hit], start: float, end: float) -> float | None:
    """Seconds from ``start`` until every later page request in the window was healthy; None if never.

    The window holds the requests started at or after ``start`` and answered before ``end`` (the next fault):
    a request still in flight when the next fault began may carry that fault's effect."""
    window = sorted((hit for hit in hits if start <= hit.at and hit.at + hit.ms / 1000 < end),
                    key=lambda hit: hit.at)
    last_bad = max((i for i, hit in enumerate(window) if not hit.healthy), default=-1)
    if last_bad == len(window) - 1:
        return None if window else 0.0
    if last_bad < 0:
        return 0.0
    return round(window[last_bad + 1].at - start, 1)


def launch_recovery(start: float, end: float, prefix: str) -> float | None:
    """Seconds from ``start`` until the first launch requested at or after it was recorded started."""
    from launches.models import Launch, LaunchStatus

    since = datetime.fromtimestamp(start, UTC)
    first = (Launch.objects.filter(key__startswith=f"{prefix}-", created_at__gte=since,
                                   status=LaunchStatus.STARTED, finished_at__isnull=False)
             .order_by("finished_at").values_list("finished_at", flat=True).first())
    if first is None or first.timestamp() >= end:
        return None
    return round(first.timestamp() - start, 1)


# One planned fault or kill: what ("fault" or "kill"), the fault's kind, when (seconds into the soak), how long.
Planned = tuple[str, str, float, float]


def fault_schedule(args: argparse.Namespace, rng: random.Random) -> list[Planned]:
    """Every ``--every`` seconds one fault of a drawn kind and length and one worker kill, at drawn moments.

    The schedule is drawn before the run, so one seed gives one schedule whatever the timing."""
    seconds = args.minutes * 60
    schedule: list[Planned] = []
    for period in range(int(seconds // args.every) + 1):
        begin = period * args.every
        kind = rng.choice(sorted(FAULTS))
        schedule.append(("fault", kind, begin + rng.uniform(0.1, 0.25) * args.every,
                         rng.uniform(1 / 6, 1 / 3) * args.every))
        schedule.append(("kill", "", begin + rng.uniform(0.1, 0.9) * args.every, 0.0))
    return sorted((entry for entry in schedule if entry[2] < seconds), key=lambda entry: entry[2])


@dataclass
class Traffic:
    """The soak's load (browsing clients, the launcher and the load-average sampler) and what it recorded."""

    hits: list[Hit] = field(default_factory=list)
    requested: list[tuple[str, float]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    began: float = 0.0
    ended: float = 0.0

    def start(self, args: argparse.Namespace, base: str, headers: dict[str, str], paths: dict[str, list[str]], *,
              workflow_id: str, prefix: str) -> None:
        self.threads = [threading.Thread(target=browse, args=(base, headers, paths), kwargs={
            "index": i, "pace": args.pace, "timeout": args.timeout, "stop": self.stop, "hits": self.hits},
            daemon=True) for i in range(args.clients)]
        self.threads.append(threading.Thread(target=sample_load, args=(self.stop, self.loads), daemon=True))
        self.threads.append(threading.Thread(target=launcher, kwargs={
            "workflow_id": workflow_id, "rate": args.rate, "prefix": prefix, "stop": self.stop,
            "requested": self.requested, "refused": self.refused}, daemon=True))
        self.began = time.time()
        for thread in self.threads:
            thread.start()

    def finish(self, timeout: float) -> None:
        self.ended = time.time()
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=timeout)


@dataclass
class Chaos:
    """What the injections act on: the sandbox's control API and the Celery workers (replaced when killed)."""

    sandbox: Sandbox
    processes: Processes
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]]
    rng: random.Random

    def kill_a_worker(self, events: list[Event]) -> None:
        victim = self.rng.randrange(len(self.workers))
        pid = self.workers[victim].pid
        self.processes.stop(self.workers[victim], kill=True)
        killed_at = time.time()
        self.workers[victim] = start_workers(self.processes, self.env, 1, f"chaos-r{len(events)}")[0]
        events.append(Event("worker SIGKILL", killed_at, killed_at,
                            f"pid {pid}, replacement ready after {time.time() - killed_at:.1f} s"))
        log(f"  killed worker {pid}; replacement {self.workers[victim].pid} ready")

    def fault(self, kind: str, length: float, events: list[Event]) -> None:
        fault = FAULTS[kind]
        start = time.time()
        if fault is None:
            self.sandbox.control("POST", "tokens/revoke")
            events.append(Event(kind, start, time.time()))
            log(f"  {kind}")
            return
        self.sandbox.control("POST", "faults", json=fault)
        log(f"  fault: {kind} for {length:.0f} s")
        time.sleep(max(0.0, start + length - time.time()))
        self.sandbox.control("DELETE", "faults")
        events.append(Event(kind, start, time.time()))

    def follow(self, schedule: list[Planned], began: float, seconds: float) -> list[Event]:
        """Injects each planned fault or kill at its moment, then waits for the soak's end; returns what
        happened, when."""
        events: list[Event] = []
        for what, kind, at, length in schedule:
            time.sleep(max(0.0, began + at - time.time()))
            if what == "kill":
                self.kill_a_worker(events)
            else:
                self.fault(kind, length, events)
        time.sleep(max(0.0, began + seconds - time.time()))
        return events


def drain(args: argparse.Namespace, prefix: str) -> tuple[bool, float]:
    """Waits (at most ``--drain`` seconds) until no launch of the soak is pending or starting; returns whether
    that happened and how long it took."""
    from launches.models import Launch, LaunchStatus

    log(f"load stopped; draining (at most {args.drain:.0f} s) until every launch is started or flagged")
    open_statuses = (LaunchStatus.PENDING, LaunchStatus.STARTING)
    mine = Launch.objects.filter(key__startswith=f"{prefix}-")
    drain_began = time.monotonic()
    try:
        wait_until(lambda: not mine.filter(status__in=open_statuses).exists(), timeout=args.drain,
                   what="the launches to finish", interval=1.0)
        drained = True
    except TimeoutError:
        drained = False
    return drained, round(time.monotonic() - drain_began, 1)


def recoveries(events: list[Event], traffic: Traffic, ended: float, prefix: str) -> list[dict[str, Any]]:
    """Each event's recovery (the module's docstring says how it is judged) within its window."""
    judged: list[dict[str, Any]] = []
    fault_starts = [event.start for event in events if event.kind in FAULTS]
    for event in events:
        horizon = min((start for start in fault_starts if start > event.start), default=ended)
        killed = event.kind not in FAULTS
        # A worker kill cannot touch the pages (they never wait on a worker): only its launches are judged.
        pages = 0.0 if killed else page_recovery(traffic.hits, event.end, min(horizon, traffic.ended))
        launches = launch_recovery(event.end, horizon, prefix)
        recovered = None if pages is None or launches is None else max(pages, launches)
        judged.append({"event": event.kind, "detail": event.detail,
                       "at_s": round(event.start - traffic.began, 1), "lasted_s": round(event.end - event.start, 1),
                       "window_s": round(horizon - event.end, 1), "pages_s": pages, "launches_s": launches,
                       "recovery_s": recovered})
    return judged


def launch_figures(sandbox: Sandbox, workflow_id: str, prefix: str,
                   requested: list[tuple[str, float]]) -> dict[str, Any]:
    """Launches against journeys in Mint: which have one, which two, which none (and whether flagged)."""
    from launches.models import Launch, LaunchStatus

    mine = Launch.objects.filter(key__startswith=f"{prefix}-")
    statuses = Counter(mine.values_list("status", flat=True))
    names = journeys_in_mint(sandbox, workflow_id)
    keys = {key for key, _ in requested}
    by_launch = {name.removeprefix("chaos "): count for name, count in names.items()}
    review_keys = set(mine.filter(status=LaunchStatus.NEEDS_REVIEW).values_list("key", flat=True))
    without_journey = keys - set(by_launch)
    unexplained = sorted(without_journey - review_keys)
    duplicates = sum(count - 1 for count in by_launch.values()) + sum(
        count for key, count in by_launch.items() if key not in keys)
    return {
        "launches_requested": len(requested),
        "journeys_in_mint": sum(names.values()), "launches_with_journey": len(keys & set(by_launch)),
        "duplicates": duplicates, "statuses": dict(statuses),
        "left_pending": statuses.get(LaunchStatus.PENDING, 0) + statuses.get(LaunchStatus.STARTING, 0),
        "needs_review": statuses.get(LaunchStatus.NEEDS_REVIEW, 0),
        "needs_review_without_journey": len(without_journey & review_keys),
        "without_journey_unexplained": unexplained[:20], "without_journey_unexplained_count": len(unexplained),
    }


def page_figures(traffic: Traffic, pages: list[str]) -> dict[str, Any]:
    """Requests/s, latency by page, errors by class, and a 10-second timeline of the page requests."""
    hits, began = traffic.hits, traffic.began
    by_page: dict[str, dict[str, Any]] = {}
    for page in pages:
        samples = [hit.ms for hit in hits if hit.page == page and hit.outcome == "ok"]
        p50, p95, p99 = percentiles(samples)
        by_page[page] = {"requests": sum(1 for hit in hits if hit.page == page), "ok": len(samples),
                         "with_banner": sum(1 for hit in hits if hit.page == page and hit.banner),
                         "p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "p99_ms": round(p99, 1)}
    load_seconds = traffic.ended - began
    errors = Counter(hit.outcome for hit in hits if hit.outcome != "ok")
    timeline = []
    for offset in range(0, int(traffic.ended - began) + 1, 10):
        bucket = [hit for hit in hits if began + offset <= hit.at < began + offset + 10]
        timeline.append({"at_s": offset, "requests": len(bucket),
                         "unhealthy": sum(1 for hit in bucket if not hit.healthy),
                         "p95_ms": round(percentiles([hit.ms for hit in bucket])[1], 1)})
    return {
        "seconds": round(load_seconds, 1), "requests": len(hits),
        "requests_per_second": round(len(hits) / load_seconds, 1) if load_seconds else 0.0,
        "pages": by_page,
        "errors": {cls: errors.get(cls, 0) for cls in ("portal_5xx", "portal_4xx", "redirect", "timeout",
                                                        "connection")},
        "timeline_10s": timeline,
        "unhealthy_requests": [[round(hit.at - began, 2), hit.page, hit.outcome, hit.banner, round(hit.ms)]
                               for hit in sorted(hits, key=lambda hit: hit.at) if not hit.healthy],
    }


def bar_misses(results: dict[str, Any]) -> list[str]:
    """How the soak missed the issue's bar (the module's docstring), in words; empty when it was met."""
    misses = []
    unexplained = results["without_journey_unexplained_count"]
    if unexplained:
        misses.append(f"{unexplained} launches have no journey in Mint and are not flagged needs review")
    if results["launch_requests_refused"]:
        misses.append(f"{len(results['launch_requests_refused'])} launch requests were refused")
    if results["duplicates"]:
        misses.append(f"{results['duplicates']} duplicate journeys")
    if results["errors"]["portal_5xx"]:
        misses.append(f"{results['errors']['portal_5xx']} portal 5xx")
    longest, unrecovered = results["longest_recovery_s"], results["unrecovered"]
    if longest >= RECOVERY_BAR_SECONDS or unrecovered:
        misses.append(f"longest recovery {longest} s, {unrecovered} not recovered within their window")
    return misses


def soak(args: argparse.Namespace, processes: Processes, sandbox: Sandbox, env: dict[str, str], base: str,
         rng: random.Random) -> dict[str, Any]:
    from workflows.sync import workflow_sync

    workflow_id = chaos_workflow(sandbox)
    workflow_sync(workflow_id=workflow_id)
    headers = {"Cookie": f"sessionid={session_cookie()}"}
    paths = page_paths(workflow_id)
    chaos = Chaos(sandbox, processes, env, start_workers(processes, env, args.workers, "chaos"), rng)
    processes.start("beat", [PYTHON, "-m", "celery", "-A", "mintportal", "beat", "-l", "INFO", "--schedule",
                             str(processes.workdir / "celerybeat-schedule")], env)
    # Fill the caches and every gunicorn process's connections before the clock starts, as in ``outage``.
    run_load(base_url=base, paths=[path for group in paths.values() for path in group], headers=headers,
             clients=args.clients, seconds=5)
    prefix = f"chaos-{args.seed}-{int(time.time())}"
    seconds = args.minutes * 60
    schedule = fault_schedule(args, rng)
    log(f"soak: {seconds:.0f} s, {args.clients} clients every {args.pace} s, {args.rate} launches/s; "
        f"schedule {[(what, kind, round(at, 1), round(length, 1)) for what, kind, at, length in schedule]}")
    traffic = Traffic()
    traffic.start(args, base, headers, paths, workflow_id=workflow_id, prefix=prefix)
    try:
        events = chaos.follow(schedule, traffic.began, seconds)
    finally:
        sandbox.control("DELETE", "faults")
        traffic.finish(timeout=args.timeout + 5)
    drained, drain_seconds = drain(args, prefix)
    judged = recoveries(events, traffic, time.time(), prefix)
    loads = traffic.loads
    results: dict[str, Any] = {
        "seed": args.seed,
        **page_figures(traffic, list(paths)),
        "launch_requests_refused": traffic.refused,
        **launch_figures(sandbox, workflow_id, prefix, traffic.requested),
        "drained": drained, "drain_seconds": drain_seconds,
        "load_average_1min": {"min": min(loads, default=0.0), "max": max(loads, default=0.0),
                              "mean": round(sum(loads) / len(loads), 2) if loads else 0.0},
        "events": judged,
        "longest_recovery_s": max((r["recovery_s"] for r in judged if r["recovery_s"] is not None), default=0.0),
        "unrecovered": sum(1 for r in judged if r["recovery_s"] is None),
    }
    results["bar_missed"] = bar_misses(results)
    return results


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    errors, load = results["errors"], results["load_average_1min"]
    lines = [
        f"Seed {results['seed']}, {args.minutes} min, {args.clients} clients (a page every {args.pace} s each), "
        f"{args.rate} launches/s, {args.workers} workers, gunicorn {args.web_workers} x {args.web_threads}, "
        f"a fault every {args.every} s; machine load (1-minute average, every 10 s) "
        f"{load['min']}–{load['max']}, mean {load['mean']}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| requests/s (all pages) | {results['requests_per_second']} ({results['requests']} requests) |",
    ]
    for page, figures in results["pages"].items():
        lines.append(f"| {page}: p50 / p95 / p99 | {figures['p50_ms']} / {figures['p95_ms']} / {figures['p99_ms']} "
                     f"ms ({figures['requests']} requests, {figures['with_banner']} with the outage banner) |")
    lines += [
        f"| errors: portal 5xx / 4xx / redirects / timeouts / connection | {errors['portal_5xx']} / "
        f"{errors['portal_4xx']} / {errors['redirect']} / {errors['timeout']} / {errors['connection']} |",
        f"| launches requested / journeys in Mint | {results['launches_requested']} / "
        f"{results['journeys_in_mint']} |",
        f"| duplicates (two journeys for one launch, or a journey for none) | {results['duplicates']} |",
        f"| launches without a journey: needs review / unexplained | {results['needs_review_without_journey']} / "
        f"{results['without_journey_unexplained_count']} |",
        f"| left pending / needs review (after a drain of {results['drain_seconds']} s) | "
        f"{results['left_pending']} / {results['needs_review']} |",
        f"| longest recovery (pages and launches healthy again) | {results['longest_recovery_s']} s "
        f"({results['unrecovered']} not recovered) |",
        "",
        "| at (s) | event | lasted (s) | pages healthy after (s) | a new launch started after (s) | recovery (s) |",
        "|---|---|---|---|---|---|",
    ]
    for event in results["events"]:
        lines.append(f"| {event['at_s']} | {event['event']} | {event['lasted_s']} | {event['pages_s']} | "
                     f"{event['launches_s']} | {event['recovery_s']} |")
    lines.append("")
    lines.append("Bar: " + ("met" if not results["bar_missed"] else "MISSED: " + "; ".join(results["bar_missed"])))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench chaos", __doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=None, help="repeat a run's faults (printed at the start)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between one browsing client's requests")
    parser.add_argument("--rate", type=float, default=2.0, help="launches per second")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--every", type=float, default=60.0,
                        help="seconds between faults (and between worker kills)")
    parser.add_argument("--drain", type=float, default=300.0,
                        help="seconds at most to wait after the load for launches to be started or flagged")
    parser.add_argument("--timeout", type=float, default=30.0, help="a page request's timeout (seconds)")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1_000_000)
    log(f"chaos soak, seed {args.seed} (repeat with --seed {args.seed})")
    rng = random.Random(args.seed)

    with common.run("chaos", args) as run:
        sandbox, env, base = small_world(args, run.processes, run.workdir)
        run.results.update(soak(args, run.processes, sandbox, env, base, rng))
    run.publish(markdown(run.results, args))
    return 1 if run.results["bar_missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
