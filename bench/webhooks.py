"""Webhook acknowledgement under a burst (issue 11): ``python -m bench webhooks [--events 200 --clients 20]``.

Builds a small world (a sandbox with ``--journeys`` waiting journeys, a migrated PostgreSQL database, Redis,
gunicorn with the benchmark's 2 x 4 layout and one Celery worker doing the refreshes the events ask for, as in
production), then sends ``--events`` signed ``mint-api:journey_status_changed`` deliveries naming those journeys
from ``--clients`` concurrent senders, each with one delivery in flight. It reports the acknowledgement latency
(p50/p95/p99: from sending a delivery to reading the whole answer), the answers by status, and how long the
worker took to refresh every journey named. Results go to ``bench/results/<timestamp>-webhooks/results.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.__main__ import (
    CLIENT_ID,
    CLIENT_SECRET,
    PYTHON,
    ROOT,
    Processes,
    Sandbox,
    _answers,
    django_setup,
    free_port,
    log,
    machine,
    portal_env,
    prepare_database,
    prepare_redis,
    sandbox_env,
    wait_until,
)
from bench.load import percentiles

SECRET = f"bench-webhooks-{uuid.uuid4().hex}"


def signed(event: dict[str, Any]) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    stamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={digest}"


def burst(port: int, journey_ids: list[str], *, events: int, clients: int) -> dict[str, Any]:
    """Sends ``events`` deliveries from ``clients`` senders at once (keep-alive connections, one in flight each)."""
    deliveries = []
    for index in range(events):
        event = {"id": uuid.uuid4().hex, "timestamp": datetime.now(UTC).isoformat(), "sender": "mint-api",
                 "eventName": "mint-api:journey_status_changed",
                 "eventData": {"journeyId": journey_ids[index % len(journey_ids)], "status": "active"}}
        deliveries.append(signed(event))
    shares = [deliveries[i::clients] for i in range(clients)]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)

    def sender(share: list[tuple[bytes, str]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start_line.wait()
        for body, signature in share:
            began = time.perf_counter()
            connection.request("POST", "/webhooks/mint", body=body, headers={
                "Content-Type": "application/json", "Signicat-Signature": signature})
            response = connection.getresponse()
            response.read()
            took = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(took)
                statuses[response.status] += 1
        connection.close()

    threads = [threading.Thread(target=sender, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    p50, p95, p99 = percentiles(latencies)
    return {"events": events, "clients": clients, "seconds": round(seconds, 3),
            "per_second": round(events / seconds, 1), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
            "p99_ms": round(p99, 1), "max_ms": round(max(latencies), 1),
            "answers": {str(status): count for status, count in sorted(statuses.items())}}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="bursts measured (after one warm-up burst)")
    parser.add_argument("--journeys", type=int, default=50, help="waiting journeys the events name")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mintportal_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    args = parser.parse_args(argv)

    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    workdir = ROOT / "bench" / "results" / (started_at.replace(":", "") + "-webhooks")
    (workdir / "portal").mkdir(parents=True, exist_ok=True)
    processes = Processes(workdir)
    results: dict[str, Any] = {"started_at": started_at, "machine": machine(), "args": vars(args)}
    try:
        sandbox_port = free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        processes.start("sandbox", [PYTHON, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port",
                                    str(sandbox_port)], sandbox_env(workdir, sandbox_port))
        wait_until(lambda: _answers(f"{sandbox_url}/_sandbox/health"), timeout=120, what="the sandbox")
        sandbox = Sandbox(sandbox_url)
        sandbox.control("POST", "clients", json={"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                                                 "roles": ["Flow Viewer", "Flow Editor"]})
        created = sandbox.api("POST", "workflows", json={
            "name": "bench webhooks", "steps": [{"id": "hold", "type": "suspend"}, {"id": "done", "type": "finish"}],
            "connections": [{"sourceStepId": "hold", "targetStepId": "done"}]})
        created.raise_for_status()
        workflow = created.json()
        journey_ids = [sandbox.api("POST", f"workflows/{workflow['id']}/journeys", json={}).json()["journeyId"]
                       for _ in range(args.journeys)]

        prepare_database(args.database_url)
        prepare_redis(args.redis_url)
        env = portal_env(args, workdir, sandbox_url)
        env["MINT_WEBHOOK_SECRET"] = SECRET
        subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
        django_setup(env)
        processes.start("worker", [PYTHON, "-m", "celery", "-A", "mintportal", "worker", "-P", "solo", "-n",
                                   "bench-webhooks@%h", "--without-gossip", "--without-mingle", "-l", "WARNING"], env)
        port = free_port()
        processes.start("gunicorn", [
            str(Path(PYTHON).with_name("gunicorn")), "mintportal.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.web_workers), "--threads", str(args.web_threads), "--worker-class", "gthread",
            "--keep-alive", "30"], env)
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=60, what="gunicorn")

        from journeys.models import Journey

        log(f"warm-up burst, then {args.rounds} bursts of {args.events} events from {args.clients} senders")
        burst(port, journey_ids, events=args.events, clients=args.clients)
        rounds = []
        for _ in range(args.rounds):
            Journey.objects.all().delete()
            sent_at = time.monotonic()
            rounds.append(burst(port, journey_ids, events=args.events, clients=args.clients))
            wait_until(lambda: Journey.objects.filter(pk__in=journey_ids).count() == len(journey_ids),
                       timeout=300, what="the worker to refresh every journey named")
            rounds[-1]["all_refreshed_after_s"] = round(time.monotonic() - sent_at, 2)
            log(f"  {rounds[-1]}")
        results["rounds"] = rounds
        results["p95_ms_median"] = sorted(r["p95_ms"] for r in rounds)[len(rounds) // 2]
    finally:
        processes.stop_all()
        (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    log(f"p95 (median of {args.rounds} bursts): {results.get('p95_ms_median')} ms; results in {workdir}")
    return 0
