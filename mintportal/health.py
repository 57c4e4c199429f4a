"""Liveness and readiness for load balancers, orchestrators and people.

- ``/healthz`` is liveness: the process answers HTTP. No I/O at all, so it stays instant however slow Mint,
  the database or the cache are; restart the process only when this fails.
- ``/readyz`` is readiness: whether this instance can serve pages, with what it found as a small JSON body.
  It answers 503 (``"status": "unavailable"``) only when the portal's database cannot be reached, because
  without it no page works. Everything else is reported as ``"degraded"`` with 200: a cache outage (pages are
  served without it), a broker outage (launches cannot be queued), an open circuit breaker towards Mint, or a
  journey sync that is behind. Taking every instance out of the load balancer because Mint is down would turn
  an outage of Mint, which the portal is built to ride out, into an outage of the portal.

Apps add checks of their own data with ``register_check`` (the journeys app adds the sync lag), since this
module, below every app, may not import them.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mintportal.middleware import database_unavailable, is_database_outage
from mintportal.mint import get_client
from mintportal.mint.breaker import CLOSED

logger = logging.getLogger(__name__)

OK: Final = "ok"
DEGRADED: Final = "degraded"
UNAVAILABLE: Final = "unavailable"


@dataclass(frozen=True)
class CheckResult:
    """One check's finding: ``ok``, and what a person needs to see why (never a secret or a DSN)."""

    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)
    # A failed critical check makes the instance unavailable (503); others only degrade it.
    critical: bool = False


Check = Callable[[], CheckResult]
_checks: dict[str, Check] = {}


def register_check(name: str, check: Check) -> None:
    """Adds (or replaces) a readiness check under ``name``; it must be quick and must not raise."""
    _checks[name] = check


def _timed(check: Check) -> CheckResult:
    began = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # noqa: BLE001 - a check that crashes reports itself failed, it never crashes /readyz
        result = CheckResult(ok=False, detail={"error": type(exc).__name__})
    return CheckResult(ok=result.ok, critical=result.critical,
                       detail={**result.detail, "ms": round((time.perf_counter() - began) * 1000, 1)})


def check_database() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - whatever the probe raises, the check has failed
        if is_database_outage(exc):
            # The next request must reconnect rather than reuse a connection the server has dropped.
            connection.close_if_unusable_or_obsolete()
        return CheckResult(ok=False, critical=True, detail={"error": type(exc).__name__})
    return CheckResult(ok=True, critical=True)


def check_cache() -> CheckResult:
    key, value = "health:probe", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        ok = cache.get(key) == value
    except Exception as exc:  # noqa: BLE001 - whatever the probe raises, the check has failed
        return CheckResult(ok=False, detail={"error": type(exc).__name__})
    return CheckResult(ok=ok)


def check_broker() -> CheckResult:
    try:
        with current_app.connection_for_write(connect_timeout=1) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=2)
    except Exception as exc:  # noqa: BLE001 - whatever the probe raises, the check has failed
        return CheckResult(ok=False, detail={"error": type(exc).__name__})
    return CheckResult(ok=True)


def check_mint_breakers() -> CheckResult:
    states = get_client().breakers.states()
    return CheckResult(ok=all(state == CLOSED for state in states.values()), detail=states)


register_check("database", check_database)
register_check("cache", check_cache)
register_check("broker", check_broker)
register_check("mint", check_mint_breakers)


def readiness() -> tuple[str, dict[str, dict[str, Any]]]:
    """Runs every check: the overall status (ok, degraded, unavailable) and each check's finding."""
    results = {name: _timed(check) for name, check in _checks.items()}
    if any(not r.ok and r.critical for r in results.values()):
        status = UNAVAILABLE
    elif all(r.ok for r in results.values()):
        status = OK
    else:
        status = DEGRADED
    return status, {name: {"ok": r.ok, **r.detail} for name, r in results.items()}


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: answers at once and touches nothing."""
    return JsonResponse({"status": OK})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when pages can be served (``ok`` or ``degraded``), 503 when the database is unreachable."""
    status, checks = readiness()
    return JsonResponse({"status": status, "checks": checks}, status=503 if status == UNAVAILABLE else 200)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database outage anywhere in the request (a middleware reading the session, say) gets
    the 503 page; any other unexpected error the plain 500 page, rendered without touching the database."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_outage(exc):
        logger.error("database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        return database_unavailable(request)
    return HttpResponse(render_to_string("500.html"), status=500)
