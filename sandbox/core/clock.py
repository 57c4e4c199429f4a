"""The sandbox's one source of time.

Every time read in the sandbox goes through :func:`now`: real UTC time plus an offset that the control API
moves forward (``POST /_sandbox/clock``). Tokens, journey URLs, timers, inactivity and event retries all use it,
so tests jump ahead instead of sleeping. The offset lives in this process (the sandbox serves from one process)
and is cleared by ``POST /_sandbox/reset``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)
# When set, real time stands still for the sandbox: only advance() moves it. Tests of "just inside a limit"
# freeze the clock so that the seconds a loaded machine spends between two requests cannot tip them over.
_frozen_at: datetime | None = None


def now() -> datetime:
    """The sandbox's current time, timezone-aware UTC, in whole milliseconds.

    Timestamps are answered with millisecond precision, so they are stored with it too: a client that asks
    for ``lastExecutedAfter=<a timestamp it was given>`` must not get that same journey back.
    """
    value = (_frozen_at or datetime.now(UTC)) + _offset
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def advance(seconds: float) -> datetime:
    """Moves the sandbox clock forward by ``seconds`` (>= 0) and returns the new time."""
    global _offset
    with _lock:
        _offset += timedelta(seconds=seconds)
    return now()


def freeze() -> datetime:
    """Stops real time for the sandbox at the current instant; advance() still moves it. Returns the time."""
    global _frozen_at
    with _lock:
        _frozen_at = datetime.now(UTC)
    return now()


def travel_to(moment: datetime) -> None:
    """Sets the sandbox clock to ``moment``, past or future (the demo loader dates its journeys with it)."""
    global _offset
    with _lock:
        _offset = moment - (_frozen_at or datetime.now(UTC))


def reset() -> None:
    """Returns the sandbox clock to real, running time."""
    global _offset, _frozen_at
    with _lock:
        _offset = timedelta(0)
        _frozen_at = None


def isoformat(value: datetime | None) -> str | None:
    """An API timestamp: ISO 8601 UTC with milliseconds and a ``Z`` suffix, or None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
