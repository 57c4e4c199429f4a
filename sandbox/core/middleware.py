"""Request plumbing: trace ids, per-operation counters, injected faults and a safe request log line.

Nothing here reads or logs a request body or an Authorization header.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from sandbox.core import control
from sandbox.core.problems import ApiError, InvalidParam, problem_response, validation_error

logger = logging.getLogger("sandbox.requests")

CONTROL_PREFIX = "/_sandbox/"


def unreadable_request(exception: Exception) -> ApiError | None:
    """The client's error when Django could not, or would not, read the request (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a multipart body without a usable boundary); None otherwise."""
    if isinstance(exception, RequestDataTooBig):
        return ApiError(413, "content_too_large", "The request body is larger than the sandbox reads "
                        f"({settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, files aside).")
    if isinstance(exception, MultiPartParserError):
        return validation_error([InvalidParam("body", f"Not readable multipart/form-data: {exception}")],
                                "The request body is not valid multipart/form-data.")
    if isinstance(exception, SuspiciousOperation):
        return ApiError(400, "unreadable_request", f"The request could not be read: {exception}")
    return None


class TraceMiddleware:
    """Gives each request a trace id (``X-Trace-Id``, and ``traceId`` in problems), logs one line per request,
    answers a request Django cannot read as a 4xx problem and an unexpected error as a 500 problem, and states
    every whole response's Content-Length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trace_id = uuid.uuid4().hex
        # Django's HttpRequest declares no trace_id: like request.user, it is an attribute a middleware adds, and
        # problem_response reads it with getattr for requests that never passed here.
        request.trace_id = trace_id  # type: ignore[attr-defined]
        started = time.monotonic()
        response = self.get_response(request)
        response["X-Trace-Id"] = trace_id
        if not response.streaming and "Content-Length" not in response:
            # Without a length the HTTP/1.1 server must close the connection after the response (no keep-alive).
            response["Content-Length"] = str(len(response.content))
        logger.info("%s %s %s %.1fms trace=%s", request.method, request.path, response.status_code,
                    (time.monotonic() - started) * 1000, trace_id)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            # Not a failure: Django answers it through handler404 (a 404 problem), e.g. the control API when off.
            return None
        unreadable = unreadable_request(exception)
        if unreadable is not None:
            return problem_response(request, unreadable)
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
        operation_id = control.operations_of(view_func).get(request.method or "")
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
