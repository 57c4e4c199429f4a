"""``python -m bench outage``: pages while Mint fails (issue 11), side by side with Mint healthy in the same run.

A small world (the sandbox's demo data, about 240 journeys, mirrored into a fresh PostgreSQL database; Redis as
cache and broker) is served by gunicorn, and three phases of ``--seconds`` each are measured:

1. Mint healthy;
2. Mint answering every API call 503 with ``Retry-After: 5`` (the token endpoint stays up);
3. Mint answering every API call after 20 s.

In every phase ``--clients`` clients browse the journeys list (status filters, searches, sorts) and the
"My work" inbox, each sending one request every ``--pace`` seconds (0: back to back, which measures saturation
and mostly queueing), ``--mint-clients`` more open journey and workflow pages (which read Mint live or
through its cache, and so are the ones that could tie up the web server's threads), and one client asks for
``/healthz`` five times a second. Before the fix a page slept on Retry-After inside the client: throughput fell
from ~150 to 2 requests/s and ``/healthz`` took up to 30 s. After each outage the fault is removed and the time
until a journey page reads Mint again (the breakers' probe) is measured.

Needs PostgreSQL and Redis like ``python -m bench`` (``--database-url`` is dropped and created, ``--redis-url``
flushed). Writes ``bench/results/outage-<timestamp>/results.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any
from urllib.parse import urlencode

from bench import common
from bench.common import log
from bench.load import LoadResult, run_load
from bench.world import Sandbox, session_cookie, small_world

STATUSES = ("active", "finished", "faulted", "cancelled", "")
SORTS = ("-last", "name", "-created")
SEARCHES = ("", "Hansen", "Olsen", "a")
PHASES = (
    ("healthy", None),
    ("503 + Retry-After 5", {"path": "^/mint/", "status": 503, "retryAfter": 5}),
    ("20 s slow", {"path": "^/mint/", "latencyMs": 20_000}),
)


def browsing_paths() -> list[str]:
    """The journeys list with varied filters, and the inbox every fifth request."""
    paths = []
    for index in range(40):
        query = {"status": STATUSES[index % len(STATUSES)], "q": SEARCHES[index % len(SEARCHES)],
                 "sort": SORTS[index % len(SORTS)]}
        paths.append(f"/journeys/?{urlencode({k: v for k, v in query.items() if v})}")
        if index % 4 == 0:
            paths.append("/approvals/")
    return paths


def mint_paths() -> list[str]:
    """Journey pages (read live from Mint) and workflow pages (through the workflow cache)."""
    from accounts.models import WorkflowRecord
    from journeys.models import Journey

    journeys = [f"/journeys/{journey_id}" for journey_id in Journey.objects.values_list("id", flat=True)[:30]]
    workflows = [f"/workflows/{workflow_id}" for workflow_id in WorkflowRecord.objects.values_list("id", flat=True)[:5]]
    return journeys + workflows


def _parallel(jobs: dict[str, Any]) -> dict[str, LoadResult]:
    results: dict[str, LoadResult] = {}

    def run(name: str, job: Any) -> None:
        results[name] = job()

    threads = [threading.Thread(target=run, args=item) for item in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def measure_phase(base: str, headers: dict[str, str], browse: list[str], mint: list[str],
                  args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    results = _parallel({
        "browsing": lambda: run_load(base_url=base, paths=browse, headers=headers, clients=args.clients,
                                     seconds=args.seconds, interval=args.pace or None),
        "mint_pages": lambda: run_load(base_url=base, paths=mint, headers=headers, clients=args.mint_clients,
                                       seconds=args.seconds),
        "healthz": lambda: run_load(base_url=base, paths=["/healthz"], headers={}, clients=1, seconds=args.seconds,
                                    interval=0.2),
    })
    return {name: result.as_dict() for name, result in results.items()} | {
        "seconds": round(time.perf_counter() - began, 1)}


def recovery_seconds(base: str, headers: dict[str, str], journey_path: str, timeout: float = 120) -> float:
    """Seconds from the fault's removal until a journey page is read from Mint again (no outage banner)."""
    import requests

    began = time.monotonic()
    while time.monotonic() - began < timeout:
        page = requests.get(base + journey_path, headers=headers, timeout=30)
        if page.status_code == 200 and 'id="mint-outage"' not in page.text:
            return round(time.monotonic() - began, 1)
        time.sleep(0.5)
    return float("nan")


def markdown(results: dict[str, Any]) -> str:
    healthy = results["phases"]["healthy"]
    run = results["args"]
    pace = "back to back" if not run["pace"] else f"one request per {run['pace']} s each"
    lines = [
        (f"Run {results['started_at']}, {run['clients']} browsing clients ({pace}) + {run['mint_clients']} on Mint "
         f"pages, {run['seconds']} s per phase, gunicorn {run['web_workers']} x {run['web_threads']}."),
        "",
        ("| Mint | list + inbox p50 / p95 (ms) | list + inbox requests/s | errors | `/healthz` p50 / p99 (ms) | "
         "Mint pages p50 / p95 (ms), errors | p95 vs healthy | recovery after the fault |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, phase in results["phases"].items():
        browse, health, mint = phase["browsing"], phase["healthz"], phase["mint_pages"]
        ratio = browse["p95_ms"] / healthy["browsing"]["p95_ms"] if healthy["browsing"]["p95_ms"] else 0
        recovery = phase.get("recovery_seconds")
        lines.append(
            f"| {name} | {browse['p50_ms']} / {browse['p95_ms']} | {browse['per_second']} | {browse['errors']} | "
            f"{health['p50_ms']} / {health['p99_ms']} | {mint['p50_ms']} / {mint['p95_ms']}, {mint['errors']} | "
            f"{ratio:.2f}× | {'—' if recovery is None else f'{recovery} s'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench outage", __doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--mint-clients", type=int, default=4)
    parser.add_argument("--pace", type=float, default=0.5,
                        help="seconds between one browsing client's requests; 0 sends back to back")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load per phase")
    args = parser.parse_args(argv)

    with common.run("outage", args) as run:
        sandbox, _env, base = small_world(args, run.processes, run.workdir)
        measure_phases(args, sandbox, base, phases=run.results.setdefault("phases", {}))
    run.publish(markdown(run.results))
    return 0


def measure_phases(args: argparse.Namespace, sandbox: Sandbox, base: str, *, phases: dict[str, Any]) -> None:
    """Each phase of :data:`PHASES` in turn, after a warm-up: its fault on, the load, the fault off and the time
    until the pages read Mint again; each into ``phases`` as soon as it is measured."""
    headers = {"Cookie": f"sessionid={session_cookie()}"}
    browse, mint = browsing_paths(), mint_paths()
    log(f"warming up ({len(browse)} browsing paths, {len(mint)} Mint pages)")
    run_load(base_url=base, paths=browse + mint, headers=headers, clients=args.clients, seconds=5)
    for name, fault in PHASES:
        if fault:
            sandbox.control("POST", "faults", json=fault)
        log(f"phase: Mint {name}, {args.seconds} s")
        phase = measure_phase(base, headers, browse, mint, args)
        if fault:
            sandbox.control("DELETE", "faults")
            phase["recovery_seconds"] = recovery_seconds(base, headers, mint[0])
        phases[name] = phase
        log(f"  {json.dumps(phase)}")


if __name__ == "__main__":
    sys.exit(main())
