"""The control API under /_sandbox/ (README, "Extensions beyond Mint's API"): JSON in and out, 404 unless
SANDBOX_CONTROL is on, except the health check."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.core import auth, clock, control, selectors, services
from sandbox.core.problems import ApiError, InvalidParam, problem_response, validation_error
from sandbox.core.validation import Checker, parse_json_object
from sandbox.events import services as events
from sandbox.oidc import services as oidc


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def _answer_problems(view):  # type: ignore[no-untyped-def]
    """Turns an ApiError raised by a control view into a problem response."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return problem_response(request, error)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_http_methods(["GET"])
def health(request: HttpRequest) -> HttpResponse:
    return _json({"status": "ok"})


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
def reset(request: HttpRequest) -> HttpResponse:
    """Clears faults, counters, config overrides, webhooks and the clock offset; keeps data."""
    control.reset()
    clock.reset()
    events.reset()
    oidc.reset()
    return _json({"status": "ok"})


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@_answer_problems
def clients(request: HttpRequest) -> HttpResponse:
    """Adds or replaces an API client: ``{clientId, clientSecret, roles}``."""
    body = parse_json_object(request)
    checker = Checker()
    client_id = checker.string(body, "clientId", required=True, min_length=1, max_length=200)
    client_secret = checker.string(body, "clientSecret", required=True, min_length=1, max_length=500)
    roles = checker.array(body, "roles", required=True) or []
    for index, role in enumerate(roles):
        if role not in auth.ROLES:
            checker.add(f"roles[{index}]", "Must be one of: " + ", ".join(auth.ROLES) + ".")
    checker.raise_if_invalid()
    auth.client_upsert(client_id=client_id, client_secret=client_secret, roles=roles)
    return _json({"clientId": client_id, "roles": roles}, 201)


@csrf_exempt
@control.require_control
@require_http_methods(["POST", "DELETE"])
@_answer_problems
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
    return _json({"id": fault.id}, 201)


@csrf_exempt
@control.require_control
@require_http_methods(["GET", "DELETE"])
def counters(request: HttpRequest) -> HttpResponse:
    """GET: calls per operation id since the last reset; DELETE resets them."""
    if request.method == "DELETE":
        control.reset_counters()
        return HttpResponse(status=204)
    return _json(control.counters())


@csrf_exempt
@control.require_control
@require_http_methods(["PUT"])
@_answer_problems
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
    return _json({"tokenTtl": control.token_ttl(), "inactivityLimit": control.inactivity_limit()})


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
@_answer_problems
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
    return _json({"now": clock.isoformat(now)})


@control.require_control
@require_http_methods(["GET"])
def outbox(request: HttpRequest) -> HttpResponse:
    """Messages recorded by send-email steps, oldest first."""
    return _json(selectors.outbox_list())


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@_answer_problems
def journey_cancel(request: HttpRequest, journey_id: str) -> HttpResponse:
    """Cancels a journey from outside; 409 when it has already ended."""
    services.journey_cancel(journey_id=journey_id)
    return HttpResponse(status=204)
