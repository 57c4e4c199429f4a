"""Turns a Mint failure that no view handled into a clear page or htmx flash, never a traceback.

Also keeps a short-lived, process-wide note that Mint could not be reached, so that pages which answer
from the portal's own copy (dashboard, journeys list) can say their data may be behind; gives every web
request its time budget for Mint (``MintBudgetMiddleware``); and answers 503 with a plain page when the
portal's own database cannot be reached (``DatabaseUnavailableMiddleware``, ``database_unavailable``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django_htmx.http import reswap, retarget

from mintportal.mint import errors, get_client
from mintportal.mint.breaker import OPEN
from mintportal.mint.budget import time_budget

logger = logging.getLogger(__name__)

OUTAGE_CACHE_KEY = "mint:outage"
# Long enough to warn the next few page views, short enough that a recovered Mint is not maligned for long.
OUTAGE_TTL_SECONDS = 60

# Failures that mean Mint as a whole is unusable right now (as opposed to refusing one request).
_OUTAGES: tuple[type[errors.MintError], ...] = (
    errors.MintConnectionError,
    errors.MintServerError,
    errors.MintRateLimitedError,
    errors.MintAuthenticationError,
    errors.MintCircuitOpenError,
    errors.MintBudgetExhaustedError,
)
# What a page says while a breaker keeps the portal from asking Mint at all.
BREAKER_OPEN_MESSAGE = "Mint is unavailable right now. The portal shows what it last knew; try again shortly."


def is_outage(exc: errors.MintError) -> bool:
    """Whether the error means Mint cannot serve the portal at all (unreachable, down, busy, refusing us)."""
    return isinstance(exc, _OUTAGES)


def mint_error_message(exc: errors.MintError) -> str:
    """What a person should read about a Mint failure; never the raw error (it may echo request data)."""
    if isinstance(exc, errors.MintRateLimitedError):
        wait = math.ceil(exc.retry_after) if exc.retry_after else 10
        return f"Mint is busy, try again in {wait} s."
    if isinstance(exc, errors.MintAuthenticationError):
        return "Mint is unavailable: it refused the portal's API credentials. An administrator must check them."
    if isinstance(exc, errors.MintPermissionError):
        return "Mint refused this: the portal's API client lacks the role it needs."
    if isinstance(exc, errors.MintNotFoundError):
        return "Mint no longer has this."
    if isinstance(exc, errors.MintOutcomeUnknownError):
        return "Mint did not confirm whether this happened. Check before trying again."
    if isinstance(exc, errors.MintConflictError):
        return "Mint refused this because the journey or workflow has changed meanwhile. Reload and try again."
    if isinstance(exc, errors.MintValidationError):
        return "Mint refused the request as invalid."
    return "Mint is unavailable right now. The portal shows what it last knew; try again shortly."


def record_outage(exc: errors.MintError) -> None:
    """Notes that Mint could not serve a request; pages show a banner for the next minute."""
    note = {"at": timezone.now().isoformat(), "message": mint_error_message(exc)}
    try:
        cache.set(OUTAGE_CACHE_KEY, note, OUTAGE_TTL_SECONDS)
    except Exception:
        # The banner is a courtesy; a cache outage must not turn a Mint outage into a crash.
        logger.warning("could not record the Mint outage note in the cache", exc_info=True)


def clear_outage() -> None:
    """Forgets the outage note after a successful live call to Mint."""
    try:
        cache.delete(OUTAGE_CACHE_KEY)
    except Exception:
        logger.warning("could not clear the Mint outage note in the cache", exc_info=True)


def current_outage() -> dict[str, Any] | None:
    """The outage note (``at`` as a datetime, ``message``) if Mint failed within the last minute, or while a
    circuit breaker keeps the portal from asking Mint (a page served from cached data then says so too)."""
    try:
        note = cache.get(OUTAGE_CACHE_KEY)
    except Exception:
        logger.warning("could not read the Mint outage note from the cache", exc_info=True)
        return None
    if isinstance(note, dict):
        return {"at": datetime.fromisoformat(note["at"]), "message": note["message"]}
    if OPEN in get_client().breakers.states().values():
        return {"at": timezone.now(), "message": BREAKER_OPEN_MESSAGE}
    return None


def log_mint_error(request: HttpRequest, exc: errors.MintError) -> None:
    """Logs a Mint failure with its trace id (never the request body, which may hold secrets).

    A call the portal did not even send (an open breaker, a spent budget) is logged at INFO: the breaker logged
    its opening once, and a warning per page view through an outage would bury everything else.
    """
    not_sent = isinstance(exc, (errors.MintCircuitOpenError, errors.MintBudgetExhaustedError))
    logger.log(
        logging.INFO if not_sent else logging.WARNING,
        "Mint error on %s %s: %s status=%s code=%s trace_id=%s",
        request.method, request.path, type(exc).__name__, exc.status, exc.code, exc.trace_id or "-",
    )


def note_outage(request: HttpRequest, exc: errors.MintError) -> str:
    """For views that carry on without Mint: logs the failure, shows the banner on this page and the next
    ones, and returns the message to show where the live data would have been."""
    log_mint_error(request, exc)
    message = mint_error_message(exc)
    if is_outage(exc):
        record_outage(exc)
    request.mint_outage = {"at": timezone.now(), "message": message}  # type: ignore[attr-defined]
    return message


class MintErrorMiddleware:
    """Renders an unhandled ``MintError`` as the "Mint is unavailable" page, or as a flash for htmx.

    A rate limit says how long to wait; a missing object is a 404. Views that can show the last known
    data catch Mint errors themselves; this is the net under everything else.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, errors.MintError):
            return None
        log_mint_error(request, exception)
        if isinstance(exception, errors.MintNotFoundError):
            return render(request, "404.html", {"exception": "Not found"}, status=404)
        if is_outage(exception):
            record_outage(exception)
        message = mint_error_message(exception)
        if getattr(request, "htmx", False):
            # htmx swaps only 2xx answers by default: answer 200 and put the message in the flash area.
            messages.error(request, message)
            html = render_to_string(
                "components/_messages.html", {"messages": list(messages.get_messages(request))}, request=request
            )
            response = HttpResponse(html)
            return reswap(retarget(response, "#flash"), "beforeend")
        status = 503 if is_outage(exception) else 502
        response = render(
            request,
            "errors/mint_unavailable.html",
            {"message": message, "trace_id": exception.trace_id},
            status=status,
        )
        if isinstance(exception, errors.MintRateLimitedError) and exception.retry_after:
            response["Retry-After"] = str(math.ceil(exception.retry_after))
        return response


class MintBudgetMiddleware:
    """Gives each web request its time budget for Mint (``MINT_WEB_TIMEOUT``, see ``mintportal.mint.budget``):
    its reads get one short attempt and never sleep on ``Retry-After``, so a slow or busy Mint cannot tie up
    the threads that serve everything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with time_budget(settings.MINT_WEB_TIMEOUT):
            return self.get_response(request)


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the portal's database cannot be reached (as opposed to a bug in a query)."""
    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer while the database is down, the same for pages and htmx requests (whose error handler
    shows its sentence as a flash). Rendered without the request's context: the layout's user, menu and
    session would all query the database again."""
    html = render_to_string("errors/database_unavailable.html", {"path": request.get_full_path()})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    """Turns the database errors a view raises while PostgreSQL is down into the 503 page, never a traceback.

    Failures outside views (another middleware reaching the session or the user) end in ``handler500``
    (``mintportal.health.server_error``), which answers the same way.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        logger.error("database unavailable on %s %s: %s", request.method, request.path, type(exception).__name__)
        return database_unavailable(request)
