"""JSON caching over Django's default cache (Redis in production), safe against stampedes and outages.

Values are stored as JSON strings, never pickles, so any process (or a human with ``redis-cli``) can read
them and a code change can never unpickle into the wrong class. Two promises hold for every caller:

- **At most one load per miss.** When a key is missing, one caller takes a short lock (``cache.add``) and
  loads; the others poll the cache until the value appears or a deadline passes, and only then load
  themselves. So an expired key under load costs Mint one call, not one per concurrent request.
- **A cache outage is not an error.** If the backend is unreachable the value is loaded directly and a
  warning is logged at most once per ``_WARN_EVERY`` seconds per process, so pages stay usable (slower)
  and the logs are not flooded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import quote

from django.core.cache import cache

from mintportal.logs import RateLimitedWarning

logger = logging.getLogger(__name__)

# How long a loader may hold the stampede lock; longer than any Mint call should take with its retries.
LOCK_TTL: Final = 30
# How long waiting callers poll for the loader's value before loading themselves.
WAIT_DEADLINE: Final = 5.0
_POLL_INTERVAL: Final = 0.02
_WARN_EVERY: Final = 60.0
_warning = RateLimitedWarning(logger, every=_WARN_EVERY)
# Keys longer than this are shortened with a digest: memcached limits keys to 250 bytes and long keys
# waste memory in Redis.
_MAX_KEY_LENGTH: Final = 200

_MISS: Final = object()


class _CacheUnavailable(Exception):
    """The cache backend failed; raised internally so that only cache calls, never ``load``, are excused."""


def cache_key(*parts: str) -> str:
    """Builds a cache key from parts, e.g. ``cache_key("workflows", "list", scope_digest)``.

    Each part is percent-quoted so that a ``:`` inside a part (or a user's search text) can never make two
    different part lists collide; keys longer than 200 characters keep their first part readable and end
    in a SHA-256 digest of the rest.
    """
    if not parts:
        raise ValueError("cache_key needs at least one part")
    quoted = [quote(str(part), safe="") for part in parts]
    key = ":".join(quoted)
    if len(key) <= _MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(":".join(quoted[1:]).encode()).hexdigest()
    return f"{quoted[0][:100]}:h:{digest}"


def _warn(operation: str, exc: BaseException) -> None:
    # The exception's class and message name the backend's problem; keys and values are not logged.
    _warning.warn("cache unavailable during %s, serving without it: %s: %s", operation, type(exc).__name__, exc)


def _get(key: str) -> Any:
    try:
        raw = cache.get(key, _MISS)
    except Exception as exc:
        raise _CacheUnavailable from exc
    if raw is _MISS:
        return _MISS
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        # Something other than our JSON sits under the key (an older format): treat it as a miss.
        return _MISS


def _add_lock(lock_key: str) -> bool:
    try:
        return bool(cache.add(lock_key, "1", timeout=LOCK_TTL))
    except Exception as exc:
        raise _CacheUnavailable from exc


def _store(key: str, encoded: str, ttl: int) -> None:
    try:
        cache.set(key, encoded, timeout=ttl)
    except Exception as exc:  # noqa: BLE001 - each backend raises its own errors; any of them is an outage
        _warn("set", exc)


def _release(lock_key: str) -> None:
    try:
        cache.delete(lock_key)
    except Exception as exc:  # noqa: BLE001 - each backend raises its own errors; any of them is an outage
        _warn("unlock", exc)


def cached_json(key: str, *, ttl: int, load: Callable[[], Any]) -> Any:
    """Returns the JSON value cached under ``key``, calling ``load()`` on a miss and caching its result.

    ``load`` must return a JSON-serialisable value (dicts, lists, strings, numbers, booleans, None); the
    value returned is always the JSON round trip, so tuples come back as lists whether or not the cache was
    hit. ``ttl`` is in seconds. Exceptions from ``load`` propagate and nothing is cached; exceptions from
    the cache backend are logged (rate-limited) and the value is loaded directly.
    """
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    lock_key = f"{key}:lock"
    try:
        value = _get(key)
        if value is not _MISS:
            return value
        if _add_lock(lock_key):
            try:
                return _load_and_store(key, ttl, load)
            finally:
                _release(lock_key)
        deadline = time.monotonic() + WAIT_DEADLINE
        while time.monotonic() < deadline:
            # Another process is loading this key right now; waiting for it is what saves the Mint call.
            time.sleep(_POLL_INTERVAL)
            value = _get(key)
            if value is not _MISS:
                return value
        logger.info("cache: gave up waiting for another loader after %.1fs; loading directly", WAIT_DEADLINE)
        return _load_and_store(key, ttl, load)
    except _CacheUnavailable as exc:
        _warn("get", exc.__cause__ or exc)
        return json.loads(json.dumps(load()))


def _load_and_store(key: str, ttl: int, load: Callable[[], Any]) -> Any:
    encoded = json.dumps(load(), separators=(",", ":"))
    _store(key, encoded, ttl)
    return json.loads(encoded)


# The wall clock of stale-while-revalidate entries; a function of its own so that tests can move it.
def _clock() -> float:
    return time.time()


def cached_json_swr(key: str, *, fresh_for: int, keep_for: int, load: Callable[[], Any],
                    refresh: Callable[[], None], refresh_every: int = LOCK_TTL) -> Any:
    """Like ``cached_json``, but an entry older than ``fresh_for`` seconds is still served (stale while
    revalidate): ``refresh()`` is called to renew it in the background, at most once per ``refresh_every``
    seconds per key, and the stale value is returned at once. Only a key with no value at all (never loaded,
    deleted by a write, or older than ``keep_for``) is loaded inline, with ``cached_json``'s single loader.

    So an outage of the source costs pages nothing while a copy of at most ``keep_for`` seconds exists.
    ``refresh`` should renew the value with ``cache_refill``; its failures are logged, never raised.
    """
    if not 0 < fresh_for <= keep_for:
        raise ValueError("need 0 < fresh_for <= keep_for")
    entry = cached_json(key, ttl=keep_for, load=lambda: {"at": _clock(), "value": load()})
    if not (isinstance(entry, dict) and "at" in entry and "value" in entry):
        # A value in an older format under this key: replace it with a fresh entry now.
        return cache_refill(key, keep_for=keep_for, load=load)
    if _clock() - float(entry["at"]) >= fresh_for:
        try:
            due = bool(cache.add(f"{key}:refreshing", "1", timeout=refresh_every))
        except Exception as exc:  # noqa: BLE001 - a cache outage: serve the stale value, refresh another time
            _warn("refresh lock", exc)
            due = False
        if due:
            try:
                refresh()
            except Exception:
                logger.warning("cache: could not start the refresh of a stale entry", exc_info=True)
    return entry["value"]


def cache_refill(key: str, *, keep_for: int, load: Callable[[], Any]) -> Any:
    """Loads the value of a ``cached_json_swr`` key now and stores it as fresh; returns it. Exceptions from
    ``load`` propagate and leave the stale entry in place."""
    value = json.loads(json.dumps(load()))
    _store(key, json.dumps({"at": _clock(), "value": value}, separators=(",", ":")), keep_for)
    return value


def cache_delete(*keys: str) -> None:
    """Deletes cached values (invalidation after a write). A cache outage is logged, never raised.

    Call it in the same service function as the write, after the write succeeded, so the next read loads
    the new state.
    """
    if not keys:
        return
    try:
        cache.delete_many(list(keys))
    except Exception as exc:  # noqa: BLE001 - each backend raises its own errors; any of them is an outage
        _warn("delete", exc)


def generation(name: str) -> str:
    """The current generation of a family of cached values (e.g. every cached journeys screen).

    Readers put it in their keys; ``generation_bump`` retires the whole family at once, however many keys it
    has. A generation is a random token rather than a counter, so a token lost to eviction or a flushed cache
    is replaced by a new one and can never bring back values cached under an older generation. With the cache
    unreachable a fresh token is returned, so nothing stale can be read.
    """
    key = cache_key("generation", name)
    fresh = uuid.uuid4().hex
    try:
        return str(cache.get_or_set(key, fresh, timeout=None))
    except Exception as exc:  # noqa: BLE001 - each backend raises its own errors; any of them is an outage
        _warn("generation", exc)
        return fresh


def generation_bump(name: str) -> None:
    """Retires every value cached under the current generation of ``name``. A cache outage is logged."""
    try:
        cache.set(cache_key("generation", name), uuid.uuid4().hex, timeout=None)
    except Exception as exc:  # noqa: BLE001 - each backend raises its own errors; any of them is an outage
        _warn("generation bump", exc)
