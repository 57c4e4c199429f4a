"""Control API for event receivers and deliveries (only when SANDBOX_CONTROL is on; 404 otherwise)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from sandbox.core.control import require_control
from sandbox.core.problems import answers_problems
from sandbox.core.validation import Checker, parse_json_object, required
from sandbox.core.views import json_response
from sandbox.events import selectors, services

MAX_SECRET_LENGTH = 500


def _is_http_url(value: str | None) -> bool:
    parts = urlsplit(value or "")
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


@csrf_exempt
@require_control
@require_http_methods(["POST", "DELETE"])
@answers_problems
def webhooks(request: HttpRequest) -> HttpResponse:
    """POST {url, secret} adds a receiver (201 {id}); DELETE removes every added receiver (204)."""
    if request.method == "DELETE":
        services.receivers_remove()
        return HttpResponse(status=204)
    body = parse_json_object(request)
    checker = Checker()
    url = checker.string(body, "url", required=True, nullable=False, max_length=2000)
    secret = checker.string(body, "secret", required=True, nullable=False, min_length=1,
                            max_length=MAX_SECRET_LENGTH)
    if url is not None and not _is_http_url(url):
        checker.add("url", "Must be an absolute http or https URL.")
    checker.raise_if_invalid()
    receiver = services.receiver_add(url=required(url), secret=required(secret))
    return json_response({"id": receiver.id}, status=201)


@require_control
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    """Every event delivery with its attempts, last status and next attempt (never the receiver's secret)."""
    return json_response(selectors.delivery_list())
