"""When and how long to wait before trying a Mint call again.

Exponential backoff with full jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
the n-th retry waits a uniformly random time between 0 and min(cap, base * 2**n), which spreads the
retries of many workers instead of having them hit Mint together. A ``Retry-After`` from Mint is a
floor on the wait; one longer than the cap ends the call at once instead of blocking a worker.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from mintportal.mint import errors

# Statuses that say "try again later"; 500 is not among them because it usually repeats.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date); None if absent or bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """The retry budget of one call: at most ``max_retries`` more attempts, no wait above ``max_wait``."""

    max_retries: int
    max_wait: float
    base: float = 0.25

    def backoff(self, retry_number: int) -> float:
        """The jittered wait before retry ``retry_number`` (0 for the first retry)."""
        ceiling = min(self.max_wait, self.base * (2**retry_number))
        return random.uniform(0, ceiling)

    def wait_before_retry(self, error: errors.MintError, retry_number: int) -> float | None:
        """How long to wait before retrying after ``error``; None when the call must not be retried.

        The caller has already decided that the call is safe to repeat; this decides whether the
        budget and Mint's ``Retry-After`` allow it.
        """
        if not error.retryable or retry_number >= self.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            if retry_after > self.max_wait:
                return None
            return max(retry_after, self.backoff(retry_number))
        return self.backoff(retry_number)


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES
