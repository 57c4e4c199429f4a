"""Which time budget a Mint call runs under: a web request's (or other work that must not wait), or a task's.

A page must never hold a web server thread while Mint is slow or busy: every thread that sleeps on a
``Retry-After`` or waits on a slow answer is one that cannot serve the pages that need no Mint at all. So a
web request gets a deadline (``MINT_WEB_TIMEOUT`` seconds for all its Mint reads together), set by
``mintportal.middleware.MintBudgetMiddleware``; inside it each call makes one attempt, waits at most what is
left, and never sleeps before a retry. Celery tasks run without a deadline and keep the retries with backoff
of ``MINT_MAX_RETRIES`` / ``MINT_MAX_RETRY_WAIT``.

Work in a worker that is just as cheap to redo as a page view (the background refresh of a stale cache entry,
which the next page view asks for again) runs under the same kind of budget, so that it cannot tie up a worker
that launches are waiting for.

The deadline lives in a context variable, so it follows the request through every layer without being passed
around, stays with the thread (or asyncio task) serving that request, and is absent in worker processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_deadline: ContextVar[float | None] = ContextVar("mint_budget_deadline", default=None)


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Runs the block under a budget: its Mint reads may take ``seconds`` together, one attempt each."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def budget_deadline() -> float | None:
    """The ``time.monotonic()`` by which the current budget's Mint reads must end; None without a budget."""
    return _deadline.get()


@dataclass(frozen=True)
class CallBudget:
    """How one call may spend time: its (connect, read) timeouts, retries and longest wait between them."""

    connect_timeout: float
    read_timeout: float
    max_retries: int
    max_retry_wait: float
    # Under a time budget (a page): a wait for another process's token renewal is bounded too.
    bounded: bool

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)
