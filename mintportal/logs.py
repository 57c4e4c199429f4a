"""Log lines as JSON objects (``PORTAL_LOG_FORMAT=json``), for log collectors that index fields.

One object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` (the text line's message,
exactly), then the ``key=value`` pairs that message carries (``trace_id``, ``status``, ``code``...) as fields
of their own, and any ``extra`` a caller passed whose value is a plain string, number or boolean. Objects such
as a request that Django attaches are left out: their text could carry a query string, which the text format
never prints either. Nothing is logged here that the text format would not show.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any, Final

# The attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# ``trace_id=abc123``, ``status=503``: the pairs the portal's messages spell out for people to grep.
# Only a word of its own counts: a query string's "?x=1" inside a request line is no field.
_PAIR: Final = re.compile(r"(?<!\S)([a-z][a-z_]*)=([^\s,;()=]+)")


def _plain(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))


class JsonLinesFormatter(logging.Formatter):
    """Formats each record as one line of JSON (tracebacks included, escaped onto that line)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in _PAIR.findall(message):
            # "-" (or a None formatted in) is how messages say "none": no trace id, no answer.
            if value not in {"-", "None"}:
                entry.setdefault(key, value)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and _plain(value):
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class RateLimitedWarning:
    """Logs a warning at most once per ``every`` seconds in this process, so an outage of a backend that every
    request touches (the cache, the breakers' store) leaves one line a minute instead of one per request."""

    def __init__(self, logger: logging.Logger, *, every: float) -> None:
        self._logger = logger
        self._every = every
        self._lock = threading.Lock()
        self._last = 0.0

    def warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if self._last and now - self._last < self._every:
                return
            self._last = now
        self._logger.warning(message, *args)

    def reset(self) -> None:
        """Forgets the last warning, so that the next one is logged (tests start each from a clean slate)."""
        with self._lock:
            self._last = 0.0
