"""Control API for event receivers and deliveries (only when SANDBOX_CONTROL is on; 404 otherwise)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from sandbox.events import selectors, services


def _require_control() -> None:
    if not settings.SANDBOX_CONTROL:
        raise Http404


def _invalid(detail: str, invalid_params: list[dict[str, str]]) -> JsonResponse:
    return JsonResponse(
        {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": detail,
         "code": "validation_error", "invalidParams": invalid_params},
        status=400,
        content_type="application/problem+json",
    )


@csrf_exempt
@require_http_methods(["POST", "DELETE"])
def webhooks(request: HttpRequest) -> HttpResponse:
    """POST {url, secret} adds a receiver (201 {id}); DELETE removes every added receiver (204)."""
    _require_control()
    if request.method == "DELETE":
        services.receivers_remove()
        return HttpResponse(status=204)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _invalid("The request body is not valid JSON.", [])
    if not isinstance(body, dict):
        return _invalid("The request body must be a JSON object.", [])
    url, secret = body.get("url"), body.get("secret")
    problems = []
    if not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc:
        problems.append({"name": "url", "reason": "must be an absolute http or https URL"})
    if not isinstance(secret, str) or not secret or len(secret) > 500:
        problems.append({"name": "secret", "reason": "must be a string of 1 to 500 characters"})
    if problems:
        return _invalid("The webhook is not valid.", problems)
    receiver = services.receiver_add(url=url, secret=secret)
    return JsonResponse({"id": receiver.id}, status=201)


@require_GET
def deliveries(request: HttpRequest) -> JsonResponse:
    """Every event delivery with its attempts, last status and next attempt."""
    _require_control()
    return JsonResponse(selectors.delivery_list(), safe=False)
