"""The portal's middleware: a refusal of the portal's own (``mintportal.errors.ApplicationError``) becomes its
404, 403, 400 or 409 answer (``ApplicationErrorMiddleware``); a Mint failure that no view handled becomes a
clear page or htmx flash, never a traceback (``MintErrorMiddleware``; the wording and the outage note live in
``mintportal.outage``); every web
request gets its time budget for Mint (``MintBudgetMiddleware``); and the portal answers 503 with a plain page
when its own database cannot be reached (``DatabaseUnavailableMiddleware``, ``database_unavailable``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django_htmx.http import reswap, retarget

from mintportal.errors import ApplicationError, NotAllowed, NotVisible
from mintportal.mint import errors
from mintportal.mint.budget import time_budget
from mintportal.outage import is_outage, log_mint_error, mint_error_message, record_outage
from mintportal.responses import HtmxHttpRequest

logger = logging.getLogger(__name__)


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """The request a view behind ``login_required`` receives from this stack: django-htmx's ``htmx`` and a
    signed-in ``user`` (for type checkers; ``login_required`` is what makes the narrowing true)."""

    user: User


def flash_response(request: HttpRequest, message: str, *, status: int = 200) -> HttpResponse:
    """An htmx answer that adds ``message`` to the layout's flash area instead of swapping the target."""
    messages.error(request, message)
    html = render_to_string(
        "components/_messages.html", {"messages": list(messages.get_messages(request))}, request=request
    )
    return reswap(retarget(HttpResponse(html, status=status), "#flash"), "beforeend")


class ApplicationErrorMiddleware:
    """Answers a refusal a view did not show itself: ``NotVisible`` as the 404 page, ``NotAllowed`` as the 403
    page with its sentence, ``Refused``/``Conflict`` (and any other ``ApplicationError``) with its status and
    sentence, as a flash for htmx (the layout swaps 400 and 409 answers) or a plain page otherwise.

    The one place that maps the portal's error tree to HTTP; services, selectors and the policy raise it and
    never a Django HTTP exception. Listed above ``accounts.middleware.RefusedWriteAuditMiddleware`` in
    settings.MIDDLEWARE, so that a refused write is audited before this answers it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        if isinstance(exception, NotVisible):
            # The same page whether the object is missing or out of scope: the message is not shown.
            return render(request, "404.html", {"exception": "Not found"}, status=404)
        if isinstance(exception, NotAllowed):
            return render(request, "403.html", {"exception": exception.message}, status=403)
        if getattr(request, "htmx", False):
            return flash_response(request, exception.message, status=exception.status)
        return HttpResponse(exception.message, status=exception.status, content_type="text/plain; charset=utf-8")


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
            return flash_response(request, message)
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
