"""The provider's part of the control API under /_sandbox/oidc/ (404 unless SANDBOX_CONTROL is on)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.core import control
from sandbox.core.control_views import check_client_credentials
from sandbox.core.problems import answers_problems
from sandbox.core.validation import Checker, parse_json_object, required
from sandbox.core.views import json_response
from sandbox.oidc import services


def _strings(checker: Checker, body: dict[str, Any], key: str, *, required: bool) -> list[str]:
    items = checker.array(body, key, required=required) or []
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item or len(item) > 2000:
            checker.add(f"{key}[{index}]", "Must be a non-empty string of at most 2000 characters.")
    return items


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@answers_problems
def people(request: HttpRequest) -> HttpResponse:
    """Adds or replaces a test person: ``{subject, username?, name?, email?, groups?}``."""
    body = parse_json_object(request)
    checker = Checker()
    subject = checker.string(body, "subject", required=True, min_length=1, max_length=255)
    username = checker.string(body, "username", max_length=150) or ""
    name = checker.string(body, "name", max_length=200) or ""
    email = checker.string(body, "email", max_length=254) or ""
    groups = _strings(checker, body, "groups", required=False)
    checker.raise_if_invalid()
    services.person_upsert(subject=required(subject), username=username, name=name, email=email, groups=groups)
    return json_response({"subject": subject, "groups": groups}, 201)


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@answers_problems
def clients(request: HttpRequest) -> HttpResponse:
    """Adds or replaces a relying party: ``{clientId, clientSecret, redirectUris}``."""
    body = parse_json_object(request)
    checker = Checker()
    client_id, client_secret = check_client_credentials(checker, body)
    redirect_uris = _strings(checker, body, "redirectUris", required=True)
    checker.raise_if_invalid()
    services.client_upsert(client_id=required(client_id), client_secret=required(client_secret),
                           redirect_uris=redirect_uris)
    return json_response({"clientId": client_id, "redirectUris": redirect_uris}, 201)


@csrf_exempt
@control.require_control
@require_http_methods(["POST"])
@answers_problems
def faults(request: HttpRequest) -> HttpResponse:
    """``{tamperIdTokens: n}``: the next n token answers carry an ID token changed after it was signed."""
    body = parse_json_object(request)
    checker = Checker()
    times = checker.integer(body, "tamperIdTokens", required=True, low=0, high=1000)
    checker.raise_if_invalid()
    services.fault_tamper_id_tokens(times or 0)
    return json_response({"tamperIdTokens": times}, 201)
