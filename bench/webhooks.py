"""Webhook acknowledgement under a burst (issue 11): ``python -m bench webhooks [--events 200 --clients 20]``.

Builds a small world (a sandbox with ``--journeys`` waiting journeys, a migrated PostgreSQL database, Redis,
gunicorn with the benchmark's 2 x 4 layout and one Celery worker doing the refreshes the events ask for, as in
production), then sends ``--events`` signed ``mint-api:journey_status_changed`` deliveries naming those journeys
from ``--clients`` concurrent senders, each with one delivery in flight. It reports the acknowledgement latency
(p50/p95/p99: from sending a delivery to reading the whole answer), the answers by status, and how long the
worker took to refresh every journey named. Results go to ``bench/results/webhooks-<timestamp>/results.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bench import common
from bench.common import log, run_together, wait_until
from bench.load import percentiles
from bench.world import (
    Sandbox,
    django_setup,
    prepare_portal,
    sandbox_env,
    serve_sandbox,
    start_gunicorn,
    start_workers,
)

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

    def sender(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body, signature in shares[index]:
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

    seconds = run_together(sender, clients)
    p50, p95, p99 = percentiles(latencies)
    return {"events": events, "clients": clients, "seconds": round(seconds, 3),
            "per_second": round(events / seconds, 1), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
            "p99_ms": round(p99, 1), "max_ms": round(max(latencies), 1),
            "answers": {str(status): count for status, count in sorted(statuses.items())}}


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench webhooks", __doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="bursts measured (after one warm-up burst)")
    parser.add_argument("--journeys", type=int, default=50, help="waiting journeys the events name")
    args = parser.parse_args(argv)

    with common.run("webhooks", args) as run:
        sandbox = serve_sandbox(run.processes, sandbox_env(run.workdir))
        journey_ids = waiting_journeys(sandbox, args.journeys)
        env = prepare_portal(args, run.workdir, sandbox, MINT_WEBHOOK_SECRET=SECRET)
        django_setup(env)
        # The refreshes the events ask for, done as in production by a worker.
        start_workers(run.processes, env, 1, "webhooks")
        _web, base = start_gunicorn(run.processes, env, args)
        rounds: list[dict[str, Any]] = []
        run.results["rounds"] = rounds
        measure_bursts(args, urlsplit(base).port or 80, journey_ids, rounds=rounds)
        run.results["p95_ms_median"] = sorted(r["p95_ms"] for r in rounds)[len(rounds) // 2]
    log(f"p95 (median of {args.rounds} bursts): {run.results.get('p95_ms_median')} ms; results in {run.workdir}")
    return 0


def waiting_journeys(sandbox: Sandbox, count: int) -> list[str]:
    """Ids of ``count`` journeys of a new workflow, each waiting at its suspend step."""
    created = sandbox.api("POST", "workflows", json={
        "name": "bench webhooks", "steps": [{"id": "hold", "type": "suspend"}, {"id": "done", "type": "finish"}],
        "connections": [{"sourceStepId": "hold", "targetStepId": "done"}]})
    created.raise_for_status()
    workflow = created.json()
    return [sandbox.api("POST", f"workflows/{workflow['id']}/journeys", json={}).json()["journeyId"]
            for _ in range(count)]


def measure_bursts(args: argparse.Namespace, port: int, journey_ids: list[str], *,
                   rounds: list[dict[str, Any]]) -> None:
    """A warm-up burst, then ``--rounds`` measured ones, each into ``rounds`` with the time until the worker had
    refreshed every journey named (the mirror is emptied before each)."""
    from journeys.models import Journey

    log(f"warm-up burst, then {args.rounds} bursts of {args.events} events from {args.clients} senders")
    burst(port, journey_ids, events=args.events, clients=args.clients)
    for _ in range(args.rounds):
        Journey.objects.all().delete()
        sent_at = time.monotonic()
        rounds.append(burst(port, journey_ids, events=args.events, clients=args.clients))
        wait_until(lambda: Journey.objects.filter(pk__in=journey_ids).count() == len(journey_ids),
                   timeout=300, what="the worker to refresh every journey named")
        rounds[-1]["all_refreshed_after_s"] = round(time.monotonic() - sent_at, 2)
        log(f"  {rounds[-1]}")
