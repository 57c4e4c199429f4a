"""Request plumbing: trace ids, per-operation counters, injected faults and a safe request log line.

Nothing here reads or logs a request body or an Authorization header.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from sandbox.core import control
from sandbox.core.problems import ApiError, problem_response

logger = logging.getLogger("sandbox.requests")

CONTROL_PREFIX = "/_sandbox/"


class TraceMiddleware:
    """Gives each request a trace id (``X-Trace-Id``, and ``traceId`` in problems), logs one line per request,
    answers an unexpected error as a 500 problem, and states every whole response's Content-Length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.trace_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Trace-Id"] = request.trace_id  # type: ignore[attr-defined]
        if not response.streaming and "Content-Length" not in response:
            # Without a length the HTTP/1.1 server must close the connection after the response (no keep-alive).
            response["Content-Length"] = str(len(response.content))
        logger.info("%s %s %s %.1fms trace=%s", request.method, request.path, response.status_code,
                    (time.monotonic() - started) * 1000, request.trace_id)  # type: ignore[attr-defined]
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            # Not a failure: Django answers it through handler404 (a 404 problem), e.g. the control API when off.
            return None
        logger.exception("unhandled error in %s %s trace=%s", request.method, request.path,
                         getattr(request, "trace_id", None))
        return problem_response(request, ApiError(500, "internal_error", "The sandbox failed; see its log."))


class OperationMiddleware:
    """Counts every request matched to an operation, then applies injected faults (outside the control API):
    latency first, then, when the fault has a status, that status as a problem (with Retry-After)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        operations: dict[str, str] = getattr(view_func, "operations", {})
        operation_id = operations.get(request.method or "")
        if operation_id:
            control.count(operation_id)
        if request.path.startswith(CONTROL_PREFIX):
            return None
        fault = control.take_fault(request.method or "", request.path)
        if fault is None:
            return None
        if fault.latency_ms:
            # The injected latency is the point of the fault: this request's thread waits, others go on.
            time.sleep(fault.latency_ms / 1000)
        if fault.status is None:
            return None
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return problem_response(request, ApiError(fault.status, "injected_fault",
                                                  "This answer was injected by a sandbox fault.", headers=headers))
