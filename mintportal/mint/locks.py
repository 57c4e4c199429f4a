"""A short cross-process lock beside the Django cache, so that one process at a time renews the token.

On Redis (production) the lock is ``cache.add``, which is atomic (SET NX with a TTL). Django's file cache
implements ``add`` as "check, then set", which two processes can both pass, so with that backend the lock
is a file created with O_EXCL in the cache's own directory, which the operating system creates at most
once. Both kinds expire after ``ttl`` seconds, so a holder that dies cannot block renewals for long.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.filebased import FileBasedCache


class RenewalLock(Protocol):
    def acquire(self, owner: str) -> bool: ...

    def release(self, owner: str) -> None: ...

    def is_held(self) -> bool: ...

    def clear(self) -> None: ...


class CacheAddLock:
    """``cache.add`` as a lock: atomic on Redis and in the local-memory cache."""

    def __init__(self, cache: BaseCache, key: str, ttl: int) -> None:
        self.cache, self.key, self.ttl = cache, key, ttl

    def acquire(self, owner: str) -> bool:
        return bool(self.cache.add(self.key, owner, timeout=self.ttl))

    def release(self, owner: str) -> None:
        if self.cache.get(self.key) == owner:
            self.cache.delete(self.key)

    def is_held(self) -> bool:
        return self.cache.get(self.key) is not None

    def clear(self) -> None:
        """Removes the lock whoever holds it."""
        self.cache.delete(self.key)


class ExclusiveFileLock:
    """A lock file ``<name>.lock`` holding its owner, created with O_CREAT | O_EXCL; stale ``ttl`` s after creation."""

    def __init__(self, directory: str, name: str, ttl: int) -> None:
        self.path = Path(directory) / f"{name}.lock"
        self.ttl = ttl

    def _age(self) -> float | None:
        try:
            return time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None

    def acquire(self, owner: str) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                age = self._age()
                # A lock left behind by a holder that died: remove it and try once more.
                if age is not None and age > self.ttl:
                    self.path.unlink(missing_ok=True)
                    continue
                return False
            with os.fdopen(fd, "w") as handle:
                handle.write(owner)
            return True
        return False

    def release(self, owner: str) -> None:
        try:
            if self.path.read_text() == owner:
                self.path.unlink(missing_ok=True)
        except FileNotFoundError:
            pass

    def is_held(self) -> bool:
        age = self._age()
        return age is not None and age <= self.ttl

    def clear(self) -> None:
        """Removes the lock whoever holds it."""
        self.path.unlink(missing_ok=True)


def renewal_lock(cache: BaseCache, key: str, ttl: int) -> RenewalLock:
    """The right lock for ``cache``'s backend (see the module docstring)."""
    if isinstance(cache, FileBasedCache):
        # The file cache's own folder (FileBasedCache._dir, which django-stubs leaves out), beside its entries.
        return ExclusiveFileLock(cache._dir, key.replace(":", "-"), ttl)  # type: ignore[attr-defined]
    return CacheAddLock(cache, key, ttl)
