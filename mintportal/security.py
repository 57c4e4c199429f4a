"""Session lifetime and caching rules for signed-in pages.

- A session ends after ``SESSION_IDLE_TIMEOUT`` seconds without activity of the user, and at the latest
  ``SESSION_COOKIE_AGE`` seconds after sign-in, whatever the activity.
- Only requests the user made slide the idle timer: a page load, a form post, or an htmx request that a
  trusted browser event (a click, a key, a submit) triggered, which static/js/portal.js marks with the
  ``X-Portal-Activity: user`` header. Polls (``hx-trigger="every 10s"``), ``load`` triggers and events sent by
  the server have no trusted event, so a page left open does not keep its session alive for ever. The header
  can be forged only by the session's own browser, which could as well click.
- An ended session answers like a signed-out one: a page gets the sign-in redirect, an htmx request an
  ``HX-Redirect`` to the sign-in page (so the browser leaves the page instead of swapping the sign-in form
  into a region), with the page it was on as ``next``.
- Responses to signed-in users and CSV downloads carry ``Cache-Control: no-store``: neither the browser's
  cache, its back-forward cache nor a proxy keeps journey data once the user has left. Static files are served
  by WhiteNoise before these middlewares and keep their own long-lived caching.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

logger = logging.getLogger(__name__)

# Session keys: when the user signed in, and when they last did something (Unix seconds).
SIGNED_IN_AT = "_portal_signed_in_at"
ACTIVE_AT = "_portal_active_at"
# The header portal.js adds to htmx requests triggered by the user.
ACTIVITY_HEADER = "X-Portal-Activity"
# The idle timer moves at most once a minute, so that a busy user's session is not written on every click.
_ACTIVITY_RESOLUTION = 60


def is_user_activity(request: HttpRequest) -> bool:
    """Whether the user made this request (as opposed to a poll or another background request of the page)."""
    if not getattr(request, "htmx", False):
        return True
    return request.headers.get(ACTIVITY_HEADER) == "user"


def _end_reason(session: dict, now: int) -> str | None:
    signed_in_at, active_at = session.get(SIGNED_IN_AT), session.get(ACTIVE_AT)
    if not isinstance(signed_in_at, int) or not isinstance(active_at, int):
        return None
    if now - signed_in_at >= settings.SESSION_COOKIE_AGE:
        return "lifetime"
    if now - active_at >= settings.SESSION_IDLE_TIMEOUT:
        return "idle"
    return None


def _is_sign_in_redirect(response: HttpResponse) -> bool:
    location = response.get("Location") if response.status_code in (301, 302, 303, 307, 308) else None
    return location is not None and urlsplit(location).path == resolve_url(settings.LOGIN_URL)


class SessionTimeoutMiddleware:
    """Ends sessions that were idle too long or are older than their lifetime; slides the idle timer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(timezone.now().timestamp())
            reason = _end_reason(request.session, now)
            if reason is not None:
                logger.info("session of %s ended: %s", request.user.get_username(), reason)
                logout(request)
                messages.info(request, _ENDED[reason])
            elif SIGNED_IN_AT not in request.session:
                # A session from before these rules, or one started by login() outside a request: it starts now.
                self._start(request, now)
            elif is_user_activity(request) and now - request.session[ACTIVE_AT] >= _ACTIVITY_RESOLUTION:
                request.session[ACTIVE_AT] = now
        response = self.get_response(request)
        if request.user.is_authenticated and SIGNED_IN_AT not in request.session:
            # The view has just signed the user in: an anonymous session never has stamps, and login() flushes
            # another user's session. Signing in again as the same user keeps the first sign-in's time.
            self._start(request, int(timezone.now().timestamp()))
        htmx: HtmxDetails | None = getattr(request, "htmx", None)
        if htmx and _is_sign_in_redirect(response):
            page = htmx.current_url_abs_path or resolve_url(settings.LOGIN_REDIRECT_URL)
            return HttpResponseClientRedirect(redirect_to_login(page)["Location"])
        return response

    @staticmethod
    def _start(request: HttpRequest, now: int) -> None:
        request.session[SIGNED_IN_AT] = now
        request.session[ACTIVE_AT] = now


_ENDED = {
    "idle": "You were signed out after a while without activity. Sign in again to continue.",
    "lifetime": "Your session reached its maximum length. Sign in again to continue.",
}


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user and on every CSV download."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        is_csv = response.get("Content-Type", "").startswith("text/csv")
        if is_csv or request.user.is_authenticated:
            add_never_cache_headers(response)
            # HTTP/1.0 caches know only this one.
            response["Pragma"] = "no-cache"
        return response
