"""Prometheus metrics at ``/metrics`` (prometheus_client), for the operators' dashboards and alerts.

- ``mintportal_request_duration_seconds{view, method}``: a histogram of every web request by URL name;
- ``mintportal_mint_calls_total{operation, outcome}``: calls of the Mint client (counted in mintportal/mint);
- ``mintportal_mint_breaker_open{group}``: 1 while a group's circuit breaker is open or half-open;
- ``mintportal_sync_lag_seconds`` and other gauges apps register with ``register_gauge``.

**Several processes.** gunicorn runs several worker processes and a scrape reaches one of them, so a counter
kept in one process's memory would jump between scrapes. With ``PROMETHEUS_MULTIPROC_DIR`` set (an empty
directory, emptied at each start, shared by the processes of one host or container: see README),
prometheus_client's multiprocess mode writes each process's counters and histograms to files there and every
scrape sums them, Celery workers' Mint calls included when they share the directory. Without it (one process,
the embedded default) the process's own registry is exported. The breaker states and gauges are not kept in any
process: they are read at scrape time from the shared cache and database, so they are right in every mode.

Access: a bearer token (``METRICS_TOKEN``) or a client address in ``METRICS_ALLOWED_ADDRESSES`` (REMOTE_ADDR,
networks in CIDR notation); with neither set the endpoint answers 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Final

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from mintportal.mint import get_client
from mintportal.mint.breaker import CLOSED

logger = logging.getLogger(__name__)

# Web pages take milliseconds when served from the mirror and seconds only when Mint is slow.
_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_DURATION = Histogram(
    "mintportal_request_duration_seconds", "Time to answer a web request, by URL name and method",
    ["view", "method"], buckets=_BUCKETS,
)

_gauges: dict[str, tuple[str, Callable[[], float | None]]] = {}


def register_gauge(name: str, documentation: str, read: Callable[[], float | None]) -> None:
    """Exports ``read()`` as gauge ``name`` at every scrape (left out when it returns None or fails)."""
    _gauges[name] = (documentation, read)


class SharedStateCollector(Collector):
    """Values read at scrape time from the shared cache and database: correct whichever process is scraped."""

    def collect(self) -> Iterator[Metric]:
        breaker = GaugeMetricFamily("mintportal_mint_breaker_open",
                                    "1 while the circuit breaker of a group of Mint operations is open or half-open",
                                    labels=["group"])
        for group, state in get_client().breakers.states().items():
            breaker.add_metric([group], 0.0 if state == CLOSED else 1.0)
        yield breaker
        for name, (documentation, read) in _gauges.items():
            try:
                value = read()
            except Exception:
                logger.warning("metrics: gauge %s could not be read", name, exc_info=True)
                continue
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)


def _exposition() -> bytes:
    """This host's counters and histograms (every process's in multiprocess mode), then the shared state."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    shared = CollectorRegistry()
    shared.register(SharedStateCollector())
    return generate_latest(registry) + generate_latest(shared)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format, for a caller with the token or from an allowed address."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_NETWORKS:
        raise Http404("Metrics are not enabled")
    if not _allowed(request):
        response = HttpResponse("Metrics need the bearer token or an allowed address.\n", status=403,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(_exposition(), content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware:
    """Times every request into ``mintportal_request_duration_seconds`` by its URL name (not its path, which
    would make one series per journey id)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unresolved"
        REQUEST_DURATION.labels(view, request.method or "").observe(time.perf_counter() - began)
        return response
