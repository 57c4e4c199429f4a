"""Problem details (RFC 9457) as the Mint API answers errors: ``application/problem+json``.

Every error body carries ``type``, ``title``, ``status``, ``detail``, ``code``, ``traceId`` and
``invalidParams`` (``[{name, reason}]``, empty unless the request had invalid fields).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Concatenate

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://developer.signicat.com/docs/mint/problems/"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class InvalidParam:
    name: str
    reason: str


@dataclass
class ApiError(Exception):
    """An error the API answers as a problem; raised anywhere below a view, turned into a response once."""

    status: int
    code: str
    detail: str
    invalid_params: list[InvalidParam] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.detail}"


def validation_error(invalid_params: list[InvalidParam], detail: str | None = None) -> ApiError:
    return ApiError(
        400,
        "validation_error",
        detail or "One or more fields are invalid: " + ", ".join(p.name for p in invalid_params),
        invalid_params,
    )


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} was not found.")


def conflict(detail: str) -> ApiError:
    return ApiError(409, "conflict", detail)


def problem_response(request: HttpRequest, error: ApiError) -> HttpResponse:
    """The problem+json response for ``error``, with the request's trace id."""
    body = {
        "type": PROBLEM_TYPE_BASE + error.code.replace("_", "-"),
        "title": _TITLES.get(error.status, "Error"),
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "traceId": getattr(request, "trace_id", None),
        "invalidParams": [{"name": p.name, "reason": p.reason} for p in error.invalid_params],
    }
    response = HttpResponse(json.dumps(body), status=error.status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in error.headers.items():
        response[name] = value
    return response


def answers_problems[**P](
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Turns an :class:`ApiError` raised by a view outside the Mint API's routes into its problem response."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return problem_response(request, error)

    return wrapper
