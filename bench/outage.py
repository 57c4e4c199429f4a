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
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.load import LoadResult, run_load

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
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


def small_world(args: argparse.Namespace, processes: Any, workdir: Path) -> tuple[Any, dict[str, str], str]:
    """Starts the sandbox with its demo data, a fresh PostgreSQL database (``args.database_url``, dropped and
    created) and Redis (``args.redis_url``, flushed), migrates and mirrors Mint (a full sync, then the
    workflows), configures this process as a portal process and starts gunicorn (``args.web_workers`` x
    ``args.web_threads``, the bulkhead at half the threads). Returns the sandbox, the portal's environment and
    the portal's base URL. Shared by ``outage`` and ``chaos``."""
    from bench.__main__ import (
        CLIENT_ID,
        CLIENT_SECRET,
        Sandbox,
        _answers,
        django_setup,
        free_port,
        log,
        portal_env,
        prepare_database,
        prepare_redis,
        run_json,
        sandbox_env,
        wait_until,
    )

    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    s_env = sandbox_env(workdir, port)
    log("the sandbox with its demo data")
    for command in ("migrate", "demo"):
        subprocess.run([PYTHON, "-m", "sandbox", command], cwd=ROOT, env=s_env, check=True, capture_output=True)
    processes.start("sandbox", [PYTHON, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port", str(port)],
                    s_env)
    wait_until(lambda: _answers(f"{sandbox_url}/_sandbox/health"), timeout=120, what="the sandbox")
    sandbox = Sandbox(sandbox_url)
    sandbox.control("POST", "clients", json={"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                                             "roles": ["Flow Viewer", "Flow Editor"]})
    log("PostgreSQL and Redis, migrate, first sync")
    prepare_database(args.database_url)
    prepare_redis(args.redis_url)
    env = portal_env(args, workdir, sandbox_url)
    # The bulkhead as README recommends it: half of each process's threads at most wait on Mint.
    env["MINT_WEB_CONCURRENCY"] = str(max(1, args.web_threads // 2))
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    run_json([PYTHON, "-m", "bench.probes", "sync", "--full"], env)
    django_setup(env)
    from journeys.services.sync import workflow_sync

    workflow_sync()
    web_port = free_port()
    processes.start("gunicorn", [
        str(Path(PYTHON).with_name("gunicorn")), "mintportal.wsgi", "--bind", f"127.0.0.1:{web_port}",
        "--workers", str(args.web_workers), "--threads", str(args.web_threads), "--worker-class", "gthread",
        "--keep-alive", "30"], env)
    base = f"http://127.0.0.1:{web_port}"
    wait_until(lambda: _answers(f"{base}/healthz"), timeout=60, what="gunicorn")
    return sandbox, env, base


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import Processes, log, session_cookie

    parser = argparse.ArgumentParser(prog="python -m bench outage", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--mint-clients", type=int, default=4)
    parser.add_argument("--pace", type=float, default=0.5,
                        help="seconds between one browsing client's requests; 0 sends back to back")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load per phase")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mintportal_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    args = parser.parse_args(argv)
    args.chunk_size = 50

    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    workdir = ROOT / "bench" / "results" / f"outage-{started_at.replace(':', '')}"
    (workdir / "portal").mkdir(parents=True, exist_ok=True)
    processes = Processes(workdir)
    results: dict[str, Any] = {"started_at": started_at, "args": vars(args), "phases": {}}
    try:
        sandbox, _env, base = small_world(args, processes, workdir)
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
            results["phases"][name] = phase
            log(f"  {json.dumps(phase)}")
    finally:
        processes.stop_all()
        (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    table = markdown(results)
    (workdir / "results.md").write_text(table + "\n")
    print("\n" + table)
    log(f"results in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
