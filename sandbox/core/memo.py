"""A small in-process memory for rows that almost every request reads and that rarely change.

The sandbox serves from one process, and the rows memorised here change only through its own services, which
call :meth:`Memo.forget` on every change. Entries still expire after a few seconds, so that a change made by
another process on the same database file (``python -m sandbox migrate`` while serving) shows soon.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class Memo[K: Hashable, V]:
    """Values by key, loaded on a miss and kept for ``ttl`` seconds at most, or until :meth:`forget`."""

    def __init__(self, *, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[float, V]] = {}
        self._generation = 0

    def get(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The remembered value of ``key``, else ``load()``'s (None is not remembered)."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
            generation = self._generation
        value = load()
        if value is None:
            return None
        with self._lock:
            # A value loaded while forget() ran may predate the change that forget() announced: not kept.
            if generation == self._generation:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now + self.ttl, value)
        return value

    def forget(self) -> None:
        """Drops every value; call it after each change to the rows behind them."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
