"""A small HTTP load generator: N clients, each with one request in flight at a time.

Without ``interval`` the loop is closed: a client sends its next request as soon as the last one answered,
which finds the server's saturation throughput (and latency is mostly queueing). With ``interval`` each
client sends one request every ``interval`` seconds (a person or an htmx poll at a steady pace; a client
running late sends at once), which shows the latency a given offered load gets. Each client keeps one keep-alive
connection (``http.client``, the lightest client in the standard library, so the generator steals as little CPU
as possible from the server on a small machine). Latency is measured
from sending the request to reading the whole body.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"requests": self.requests, "errors": self.errors, "seconds": round(self.seconds, 2),
                "p50_ms": round(self.p50_ms, 1), "p95_ms": round(self.p95_ms, 1), "p99_ms": round(self.p99_ms, 1),
                "per_second": round(self.per_second, 1)}


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of ``samples`` (inclusive method, so small samples stay within their range)."""
    if len(samples) < 2:
        only = samples[0] if samples else 0.0
        return only, only, only
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


def run_load(*, base_url: str, paths: Sequence[str], headers: dict[str, str], clients: int,
             seconds: float, interval: float | None = None) -> LoadResult:
    """Runs ``clients`` concurrent clients for ``seconds``, cycling through ``paths``."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    prefix = parts.path.rstrip("/")
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_line = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        start_line.wait()
        turn = index
        # Paced clients start spread over one interval, so they do not all fire in step.
        next_at = time.perf_counter() + (interval or 0) * index / clients
        while time.perf_counter() < deadline[0]:
            if interval:
                pause = next_at - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                next_at = max(next_at + interval, time.perf_counter())
                if time.perf_counter() >= deadline[0]:
                    break
            path = prefix + paths[turn % len(paths)]
            # Clients deal the paths between them, so none is sent twice before the list comes round.
            turn += clients
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
            if ok:
                latencies[index].append((time.perf_counter() - began) * 1000)
            else:
                errors[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_line.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    samples = [value for per_client in latencies for value in per_client]
    p50, p95, p99 = percentiles(samples)
    return LoadResult(requests=len(samples), errors=sum(errors), seconds=elapsed, p50_ms=p50, p95_ms=p95, p99_ms=p99)
