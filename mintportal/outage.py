"""What the portal says and remembers when Mint fails: the wording a person reads, the log line with the trace
id, and a short-lived, process-wide note that Mint could not be reached, so that pages which answer from the
portal's own copy (dashboard, journeys list) can say their data may be behind.

Views that can carry on without Mint read it inside ``mint_or_outage``; the middleware
(``mintportal.middleware.MintErrorMiddleware``) turns every other Mint failure into a page or a flash.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from mintportal.mint import errors, get_client
from mintportal.mint.breaker import OPEN

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
# What a page says while a breaker keeps the portal from asking Mint at all (and for any other outage).
BREAKER_OPEN_MESSAGE = "Mint is unavailable right now. The portal shows what it last knew; try again shortly."


def is_outage(exc: errors.MintError) -> bool:
    """Whether the error means Mint cannot serve the portal at all (unreachable, down, busy, refusing us)."""
    return isinstance(exc, _OUTAGES)


# What a person reads about a refusal of each kind, checked in this order (the first kind that matches).
_MESSAGES: tuple[tuple[type[errors.MintError], str], ...] = (
    (errors.MintAuthenticationError,
     "Mint is unavailable: it refused the portal's API credentials. An administrator must check them."),
    (errors.MintPermissionError, "Mint refused this: the portal's API client lacks the role it needs."),
    (errors.MintNotFoundError, "Mint no longer has this."),
    (errors.MintOutcomeUnknownError, "Mint did not confirm whether this happened. Check before trying again."),
    (errors.MintConflictError,
     "Mint refused this because the journey or workflow has changed meanwhile. Reload and try again."),
    (errors.MintValidationError, "Mint refused the request as invalid."),
)


def mint_error_message(exc: errors.MintError) -> str:
    """What a person should read about a Mint failure; never the raw error (it may echo request data)."""
    if isinstance(exc, errors.MintRateLimitedError):
        wait = math.ceil(exc.retry_after) if exc.retry_after else 10
        return f"Mint is busy, try again in {wait} s."
    return next((message for kind, message in _MESSAGES if isinstance(exc, kind)), BREAKER_OPEN_MESSAGE)


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
    # The layout's context processor reads it (``mintportal.context_processors``); HttpRequest has no such field.
    request.mint_outage = {"at": timezone.now(), "message": message}  # type: ignore[attr-defined]
    return message


@dataclass
class MintRead:
    """The result of a block run under ``mint_or_outage``: ``note`` says why live data is missing, if it is."""

    note: str | None = None

    @property
    def failed(self) -> bool:
        return self.note is not None


@contextmanager
def mint_or_outage(request: HttpRequest) -> Iterator[MintRead]:
    """Runs a view's reads from Mint so that an outage leaves the page usable.

    When the block raises an outage (``is_outage``), the failure is noted (``note_outage``: log, banner) and
    swallowed, and ``read.note`` says what to show in place of the data; the view goes on with what it has
    (a fallback from the mirror, an empty list). Any other Mint error (a 404, a refusal) propagates. A block
    that completes forgets the outage note (``clear_outage``).
    """
    read = MintRead()
    try:
        yield read
    except errors.MintError as exc:
        if not is_outage(exc):
            raise
        read.note = note_outage(request, exc)
    else:
        clear_outage()
