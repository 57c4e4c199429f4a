"""The control API under /_sandbox/ (README, "Extensions beyond Mint's API"): JSON in and out, 404 unless
SANDBOX_CONTROL is on, except the health check."""

from __future__ import annotations

import math
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.core import auth, clock, control, selectors, services
from sandbox.core.problems import InvalidParam, answers_problems, validation_error
from sandbox.core.validation import Checker, parse_json_object, required
from sandbox.core.views import json_response
from sandbox.events import services as events
from sandbox.oidc import services as oidc


@require_http_methods(["GET"])
def health(request: HttpRequest) -> HttpResponse:
    return json_response({"status": "ok"})


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
def reset(request: HttpRequest) -> HttpResponse:
    """Clears faults, counters, config overrides, webhooks and the clock offset; keeps data."""
    control.reset()
    clock.reset()
    events.reset()
    oidc.reset()
    return json_response({"status": "ok"})


def check_client_credentials(checker: Checker, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The ``clientId`` and ``clientSecret`` of a control request adding a client (an API client or a relying
    party); None where invalid, which :meth:`Checker.raise_if_invalid` answers."""
    return (checker.string(body, "clientId", required=True, min_length=1, max_length=200),
            checker.string(body, "clientSecret", required=True, min_length=1, max_length=500))


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@answers_problems
def clients(request: HttpRequest) -> HttpResponse:
    """Adds or replaces an API client: ``{clientId, clientSecret, roles}``."""
    body = parse_json_object(request)
    checker = Checker()
    client_id, client_secret = check_client_credentials(checker, body)
    roles = checker.array(body, "roles", required=True) or []
    for index, role in enumerate(roles):
        if role not in auth.ROLES:
            checker.add(f"roles[{index}]", "Must be one of: " + ", ".join(auth.ROLES) + ".")
    checker.raise_if_invalid()
    auth.client_upsert(client_id=required(client_id), client_secret=required(client_secret), roles=roles)
    return json_response({"clientId": client_id, "roles": roles}, 201)


@csrf_exempt
@control.require_control
@require_http_methods(["POST", "DELETE"])
@answers_problems
def faults(request: HttpRequest) -> HttpResponse:
    """POST adds a fault ``{path, method?, status?, latencyMs?, retryAfter?, times?}`` → ``{id}``; DELETE
    removes every fault."""
    if request.method == "DELETE":
        control.clear_faults()
        return HttpResponse(status=204)
    body = parse_json_object(request)
    checker = Checker()
    path = checker.string(body, "path", required=True, min_length=1, max_length=1000)
    if path is not None:
        try:
            re.compile(path)
        except re.error as error:
            checker.add("path", f"Not a valid regular expression: {error}.")
    method = checker.string(body, "method", max_length=10)
    status = checker.integer(body, "status", low=100, high=599)
    latency_ms = checker.integer(body, "latencyMs", low=0, high=120_000)
    retry_after = checker.integer(body, "retryAfter", low=0, high=86_400)
    times = checker.integer(body, "times", low=1, high=1_000_000)
    checker.raise_if_invalid()
    fault = control.add_fault(path=path or "", method=method, status=status, latency_ms=latency_ms or 0,
                              retry_after=retry_after, times=times)
    return json_response({"id": fault.id}, 201)


@csrf_exempt
@control.require_control
@require_http_methods(["GET", "DELETE"])
def counters(request: HttpRequest) -> HttpResponse:
    """GET: calls per operation id since the last reset; DELETE resets them."""
    if request.method == "DELETE":
        control.reset_counters()
        return HttpResponse(status=204)
    return json_response(control.counters())


@csrf_exempt
@control.require_control
@require_http_methods(["PUT"])
@answers_problems
def config(request: HttpRequest) -> HttpResponse:
    """``{tokenTtl?, inactivityLimit?}``: overrides; null restores the default. Answers the values in force."""
    body = parse_json_object(request)
    checker = Checker()
    token_ttl = checker.integer(body, "tokenTtl", low=1, high=3600)
    inactivity = checker.integer(body, "inactivityLimit", low=1, high=10 * 365 * 24 * 3600)
    checker.raise_if_invalid()
    if "tokenTtl" in body:
        control.set_override("tokenTtl", token_ttl)
    if "inactivityLimit" in body:
        control.set_override("inactivityLimit", inactivity)
    return json_response({"tokenTtl": control.token_ttl(), "inactivityLimit": control.inactivity_limit()})


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
def tokens_revoke(request: HttpRequest) -> HttpResponse:
    """Revokes every issued access token."""
    auth.revoke_all_tokens()
    return HttpResponse(status=204)


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@answers_problems
def clock_advance(request: HttpRequest) -> HttpResponse:
    """``{advance: seconds, freeze?: true}`` → ``{now}``: moves the sandbox clock forward and runs what fell due.

    ``freeze`` first stops real time for the sandbox (until reset), so only advances move its clock.
    """
    body = parse_json_object(request)
    freeze = body.get("freeze", False)
    if not isinstance(freeze, bool):
        raise validation_error([InvalidParam("freeze", "Must be true or false.")])
    advance = body.get("advance", 0)
    if isinstance(advance, bool) or not isinstance(advance, (int, float)) or not math.isfinite(advance) \
            or not 0 <= advance <= 10 * 365 * 24 * 3600:
        raise validation_error([InvalidParam("advance", "Must be a number of seconds between 0 and 315360000.")])
    if freeze:
        clock.freeze()
    now = clock.advance(float(advance))
    services.run_due()
    return json_response({"now": clock.isoformat(now)})


@control.require_control
@require_http_methods(["GET"])
def outbox(request: HttpRequest) -> HttpResponse:
    """Messages recorded by send-email steps, oldest first."""
    return json_response(selectors.outbox_list())


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@answers_problems
def journey_cancel(request: HttpRequest, journey_id: str) -> HttpResponse:
    """Cancels a journey from outside; 409 when it has already ended."""
    services.journey_cancel(journey_id=journey_id)
    return HttpResponse(status=204)
