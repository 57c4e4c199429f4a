"""Which time budget a Mint call runs under: a web request's, or a background task's.

A page must never hold a web server thread while Mint is slow or busy: every thread that sleeps on a
``Retry-After`` or waits on a slow answer is one that cannot serve the pages that need no Mint at all. So a
web request gets a deadline (``MINT_WEB_TIMEOUT`` seconds for all its Mint reads together), set by
``mintportal.middleware.MintBudgetMiddleware``; inside it each call makes one attempt, waits at most what is
left, and never sleeps before a retry. Celery tasks run without a deadline and keep the retries with backoff
of ``MINT_MAX_RETRIES`` / ``MINT_MAX_RETRY_WAIT``.

The deadline lives in a context variable, so it follows the request through every layer without being passed
around, stays with the thread (or asyncio task) serving that request, and is absent in worker processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_deadline: ContextVar[float | None] = ContextVar("mint_web_deadline", default=None)


@contextmanager
def web_request_budget(seconds: float) -> Iterator[None]:
    """Runs the block as a web request: its Mint reads may take ``seconds`` together, without retries."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def web_deadline() -> float | None:
    """The ``time.monotonic()`` by which the current web request's Mint reads must end; None outside one."""
    return _deadline.get()


@dataclass(frozen=True)
class CallBudget:
    """How one call may spend time: its (connect, read) timeouts, retries and longest wait between them."""

    connect_timeout: float
    read_timeout: float
    max_retries: int
    max_retry_wait: float
    in_web_request: bool

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)
