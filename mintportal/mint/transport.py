"""One HTTP attempt to Mint: thread-local sessions, timeouts, and the mapping of failures to errors.

Retrying is the client's business (client.py); this module sends once and says precisely what went
wrong, including whether the request may have reached Mint, which decides if a create may be retried.
"""

from __future__ import annotations

import json
import threading
import weakref
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from mintportal.mint import errors
from mintportal.mint.config import MintConfig
from mintportal.mint.retry import is_retryable_status, parse_retry_after

USER_AGENT = "mintportal-mint-client/1.0 (+requests)"
# A web server's threads share one client; each thread gets its own session (requests.Session is not
# documented as thread-safe), and each session keeps a small pool of keep-alive connections.
POOL_SIZE = 10


class Transport:
    """Sends single requests with the configured timeouts on a per-thread ``requests.Session``."""

    def __init__(self, config: MintConfig) -> None:
        self.config = config
        self._local = threading.local()
        # Weak, so that the session of a thread that has ended can be collected with it.
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()

    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
            with self._sessions_lock:
                self._sessions.add(session)
        return session

    def send(self, operation: str, method: str, url: str, *, timeout: tuple[float, float] | None = None,
             **kwargs: Any) -> requests.Response:
        """Sends one request within ``timeout`` (connect, read; the configured pair by default); raises
        ``MintConnectionError`` (or ``MintTimeoutError``) when no answer came."""
        try:
            return self.session().request(method, url, timeout=timeout or self.config.timeout, **kwargs)
        except requests.RequestException as exc:
            raise connection_error(exc, operation=operation, url=url) from None

    def close(self) -> None:
        with self._sessions_lock:
            sessions = list(self._sessions)
            self._sessions.clear()
        for session in sessions:
            session.close()


def _never_reached(exc: BaseException) -> bool:
    """True when the failure happened before any byte of the request could reach the server."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    # requests wraps urllib3's MaxRetryError, whose ``reason`` is the NewConnectionError of a refused
    # connection or a failed name lookup; a reset after sending surfaces as a ProtocolError instead.
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        if isinstance(current, BaseException):
            pending.extend([getattr(current, "reason", None), current.__cause__, current.__context__, *current.args])
    return False


def connection_error(exc: requests.RequestException, *, operation: str, url: str) -> errors.MintConnectionError:
    """The error for a request that got no answer. The message names the host, never headers or bodies."""
    host = urlsplit(url).netloc
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return errors.MintTimeoutError(
            f"{operation}: Mint at {host} did not answer in time", operation=operation, request_sent=True
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        sent = not _never_reached(exc)
        what = "the connection broke" if sent else "could not connect"
        return errors.MintConnectionError(
            f"{operation}: {what} to Mint at {host} ({type(exc).__name__})", operation=operation, request_sent=sent
        )
    # Invalid URLs, bad redirects and the like do not get better by trying again.
    return errors.MintConnectionError(
        f"{operation}: request to Mint at {host} failed ({type(exc).__name__})",
        operation=operation,
        retryable=False,
        request_sent=False,
    )


def _problem(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _invalid_params(raw: Any) -> list[errors.InvalidParam]:
    if not isinstance(raw, list):
        return []
    params: list[errors.InvalidParam] = []
    for item in raw:
        if isinstance(item, dict):
            params.append(errors.InvalidParam(name=_text(item.get("name")) or "",
                                              reason=_text(item.get("reason")) or ""))
    return params


def error_class_for(status: int) -> type[errors.MintError]:
    if status == 401:
        return errors.MintAuthenticationError
    if status == 403:
        return errors.MintPermissionError
    if status in (404, 410):
        return errors.MintNotFoundError
    if status in (400, 422):
        return errors.MintValidationError
    if status == 409:
        return errors.MintConflictError
    if status == 429:
        return errors.MintRateLimitedError
    if status >= 500:
        return errors.MintServerError
    return errors.MintError


def error_from_response(response: requests.Response, *, operation: str) -> errors.MintError:
    """The error for a non-success answer, read from problem details or an OAuth error body.

    Retry-After is kept on every error (Mint sends it with 429 and 503).
    """
    problem = _problem(response)
    status = response.status_code
    title = _text(problem.get("title")) or _text(problem.get("error")) or response.reason or "error"
    detail = _text(problem.get("detail")) or _text(problem.get("error_description"))
    code = _text(problem.get("code")) or _text(problem.get("error"))
    trace_id = _text(problem.get("traceId")) or response.headers.get("X-Trace-Id")
    invalid = _invalid_params(problem.get("invalidParams"))
    message = f"{operation}: Mint answered {status} {title}"
    if detail:
        message += f": {detail}"
    if invalid:
        message += " (" + "; ".join(f"{p.name}: {p.reason}" for p in invalid) + ")"
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    cls = error_class_for(status)
    return cls(
        message,
        status=status,
        code=code,
        trace_id=trace_id,
        invalid_params=invalid,
        retryable=is_retryable_status(status),
        operation=operation,
        title=title,
        detail=detail,
        retry_after=retry_after,
    )
