"""The one error tree for Mint.

Only the client maps HTTP answers to these classes. Every error carries what Mint said about the
failure (status, code, trace id, invalid parameters, read from problem details) and whether trying
the same call again later may succeed (``retryable``). Messages never contain the client secret,
tokens or request bodies, so they may be logged and shown.
"""

from __future__ import annotations

from typing import NamedTuple


class InvalidParam(NamedTuple):
    """One field Mint rejected: ``name`` is the request field (e.g. ``name`` or ``steps[0].type``)."""

    name: str
    reason: str


class MintError(Exception):
    """Base of every error raised by the Mint client.

    ``status`` is the HTTP status (None when no answer arrived), ``code`` Mint's error code, ``trace_id``
    the id to quote to Signicat support, ``invalid_params`` the rejected fields, ``operation`` the
    client operation (e.g. ``startJourney``) that failed, ``retry_after`` the seconds Mint asked to wait
    (429, or 503 with ``Retry-After``). ``request_sent`` is False only when the request certainly never
    reached Mint (connection refused, connect timeout, no token), which makes any call safe to repeat.
    """

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        trace_id: str | None = None,
        invalid_params: list[InvalidParam] | tuple[InvalidParam, ...] = (),
        retryable: bool | None = None,
        operation: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.trace_id = trace_id
        self.invalid_params: list[InvalidParam] = list(invalid_params)
        self.retryable = self.default_retryable if retryable is None else retryable
        self.operation = operation
        self.title = title
        self.detail = detail
        self.retry_after = retry_after
        self.request_sent = request_sent

    def __str__(self) -> str:
        if self.trace_id:
            return f"{self.message} (trace id {self.trace_id})"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r}, "
            f"trace_id={self.trace_id!r}, operation={self.operation!r})"
        )


class MintConnectionError(MintError):
    """No answer from Mint: the connection failed or timed out."""

    default_retryable = True


class MintTimeoutError(MintConnectionError):
    """Mint accepted the connection but did not answer within the read timeout."""


class MintAuthenticationError(MintError):
    """401, or the token endpoint rejected the API client (wrong id or secret, token revoked)."""


class MintPermissionError(MintError):
    """403: the API client lacks a role (Flow Viewer for reads, Flow Editor for writes)."""


class MintNotFoundError(MintError):
    """404 (or 410): the workflow, journey, note, secret or file does not exist."""


class MintValidationError(MintError):
    """400/422: Mint rejected the request; ``invalid_params`` names the fields and why."""

    def field_errors(self) -> dict[str, list[str]]:
        """The reasons grouped by field name, ready to attach to a form."""
        grouped: dict[str, list[str]] = {}
        for param in self.invalid_params:
            grouped.setdefault(param.name, []).append(param.reason)
        return grouped


class MintConflictError(MintError):
    """409: the request clashes with the current state (e.g. the journey is not waiting on that step)."""


class MintRateLimitedError(MintError):
    """429: too many requests; ``retry_after`` is how many seconds Mint asked to wait (None if unsaid)."""

    default_retryable = True


class MintServerError(MintError):
    """5xx: Mint failed; 502/503/504 are marked retryable."""


class MintResponseError(MintError):
    """Mint answered with a success status but a body the client cannot read (wrong types, not JSON)."""


class MintOutcomeUnknownError(MintError):
    """A call that is not safe to repeat (e.g. starting a journey) may or may not have taken effect.

    Raised after a read timeout or a server error on such a call, because trying again could create a
    second journey. Check Mint (e.g. list the workflow's recent journeys) before starting another.
    """


class MintCircuitOpenError(MintError):
    """The portal did not call Mint: this group of operations failed repeatedly, and its circuit breaker stops
    calls until a cool-down has passed and a probe succeeded (breaker.py). ``retry_after`` is the cool-down left.

    Never sent, so any call, a create included, is safe to try again later.
    """

    default_retryable = True


class MintBudgetExhaustedError(MintError):
    """The portal did not call Mint: the web request had already spent its time budget on earlier Mint calls
    (``MINT_WEB_TIMEOUT``), so the page goes on with what the portal last knew instead of waiting longer."""

    default_retryable = True
