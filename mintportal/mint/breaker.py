"""A circuit breaker per group of Mint operations, shared by every web and worker process through the cache.

When Mint is down, asking it again on every page view only adds load to Mint and makes each page wait for a
failure. After ``MINT_BREAKER_FAILURES`` failures (no answer, a timeout, 429 or 5xx) within
``MINT_BREAKER_WINDOW`` seconds, with no success in between, a group's breaker *opens*: calls of that group
fail at once with ``MintCircuitOpenError`` (pages show the outage banner and their last known data) for
``MINT_BREAKER_COOLDOWN`` seconds. Then it is *half-open*: exactly one call, the probe, goes to Mint (a short
lock beside the cache, locks.py, decides which), and the others keep failing fast; the probe's success closes
the breaker, its failure opens it for another cool-down. Any answer from Mint that is not a failure (a 404 or
a 400 included) counts as a success: Mint is there.

Groups are coarse on purpose: reads of workflows (and step types and their files), reads of journeys, and
writes, so that slow journey reads do not stop launches' workflow reads, and a failing write path does not
hide pages that only read.

The state of a group is one small JSON value in the cache (Redis in production, the file cache in the embedded
default), so a breaker opened by one process fails fast in all of them. Updates are read-modify-write without
a lock: two failures recorded at the same instant may count as one, which only delays opening by a call. If the
cache itself is unreachable the breaker lets every call through (and logs it, at most once a minute): the
breaker protects Mint and the portal's threads, and must never be the reason a healthy Mint is not asked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.core.cache import caches

from mintportal.logs import RateLimitedWarning
from mintportal.mint import errors
from mintportal.mint.config import MintConfig
from mintportal.mint.locks import renewal_lock
from mintportal.mint.paths import Operation

logger = logging.getLogger("mintportal.mint")

WORKFLOW_READS: Final = "workflow-reads"
JOURNEY_READS: Final = "journey-reads"
WRITES: Final = "writes"
GROUPS: Final = (WORKFLOW_READS, JOURNEY_READS, WRITES)

CLOSED: Final = "closed"
OPEN: Final = "open"
HALF_OPEN: Final = "half-open"

_WARN_EVERY: Final = 60.0
_warning = RateLimitedWarning(logger, every=_WARN_EVERY)


def group_of(operation: Operation) -> str:
    """The breaker group of an operation: writes, reads of journeys, or reads of workflows and step types."""
    if operation.method != "GET":
        return WRITES
    if operation.path.startswith("/journeys"):
        return JOURNEY_READS
    return WORKFLOW_READS


def is_failure(error: errors.MintError) -> bool:
    """Whether an error says Mint cannot serve (it counts towards opening), rather than refusing one request."""
    return isinstance(error, (errors.MintConnectionError, errors.MintRateLimitedError, errors.MintServerError))


def _warn(what: str, exc: BaseException) -> None:
    _warning.warn("mint breaker: cache %s failed (%s); letting calls through", what, type(exc).__name__)


@dataclass(frozen=True)
class BreakerState:
    """A group's state as stored: failures counted since ``since``; open (no calls) until ``open_until``."""

    failures: int = 0
    since: float = 0.0
    open_until: float | None = None

    def to_json(self) -> str:
        return json.dumps({"failures": self.failures, "since": self.since, "open_until": self.open_until})

    @classmethod
    def from_json(cls, raw: Any) -> BreakerState | None:
        if not isinstance(raw, str):
            return None
        try:
            data = json.loads(raw)
            open_until = data["open_until"]
            return cls(failures=int(data["failures"]), since=float(data["since"]),
                       open_until=None if open_until is None else float(open_until))
        except (ValueError, KeyError, TypeError):
            return None

    def phase(self, now: float) -> str:
        if self.open_until is None:
            return CLOSED
        return OPEN if now < self.open_until else HALF_OPEN


@dataclass(frozen=True)
class Ticket:
    """Permission for one call: whether it is the half-open probe (and the lock it holds), and whether any
    state was stored when it was given (so that a success in the common, healthy case writes nothing)."""

    group: str
    probe_owner: str | None = None
    had_state: bool = False


class CircuitBreakers:
    """The breakers of one Mint base URL, one per group. Thread-safe; state lives in the cache only."""

    def __init__(self, config: MintConfig, *, cache_alias: str = "default",
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.cache_alias = cache_alias
        self.clock = clock
        digest = hashlib.sha256(config.base_url.encode()).hexdigest()[:16]
        self.prefix = f"mint:breaker:{digest}"
        # A probe holds its lock no longer than the slowest call it can make; a dead prober's lock then expires.
        self.probe_ttl = int(config.connect_timeout + config.read_timeout) + 5
        # Long enough to outlive a cool-down and a window; a record left alone that long is forgotten (closed).
        self.state_ttl = int(config.breaker_window + config.breaker_cooldown) + 300

    @property
    def _cache(self):
        return caches[self.cache_alias]

    def _key(self, group: str) -> str:
        return f"{self.prefix}:{group}"

    def _read(self, group: str) -> BreakerState | None:
        return BreakerState.from_json(self._cache.get(self._key(group)))

    def _write(self, group: str, state: BreakerState) -> None:
        self._cache.set(self._key(group), state.to_json(), timeout=self.state_ttl)

    def _probe_lock(self, group: str):
        return renewal_lock(self._cache, f"{self._key(group)}:probe", self.probe_ttl)

    # --- the client's side ---------------------------------------------------------------------

    def admit(self, operation: Operation) -> Ticket:
        """Lets a call of ``operation`` through, or raises ``MintCircuitOpenError`` without calling Mint."""
        group = group_of(operation)
        try:
            state = self._read(group)
        except Exception as exc:  # noqa: BLE001 - any cache backend failure: let the call through
            _warn("read", exc)
            return Ticket(group=group)
        if state is None:
            return Ticket(group=group)
        now = self.clock()
        phase = state.phase(now)
        if phase == CLOSED:
            return Ticket(group=group, had_state=True)
        if phase == HALF_OPEN:
            owner = uuid.uuid4().hex
            try:
                acquired = self._probe_lock(group).acquire(owner)
            except Exception as exc:  # noqa: BLE001 - any cache backend failure: the breaker steps aside
                _warn("probe lock", exc)
                return Ticket(group=group, had_state=True)
            if acquired:
                logger.info("mint breaker %s half-open: probing with %s", group, operation.name)
                return Ticket(group=group, probe_owner=owner, had_state=True)
        wait = max(0.0, (state.open_until or now) - now)
        raise errors.MintCircuitOpenError(
            f"{operation.name}: not called, Mint failed repeatedly ({group} paused for {wait:.0f} s more)",
            operation=operation.name, retry_after=wait or 1.0, request_sent=False,
        )

    def succeeded(self, ticket: Ticket) -> None:
        """Mint answered: the group is healthy, so any count or open state is forgotten."""
        if not ticket.had_state:
            return
        try:
            self._cache.delete(self._key(ticket.group))
            if ticket.probe_owner:
                self._probe_lock(ticket.group).release(ticket.probe_owner)
                logger.warning("mint breaker %s closed: the probe succeeded", ticket.group)
        except Exception as exc:  # noqa: BLE001 - any cache backend failure: the breaker steps aside
            _warn("delete", exc)

    def abandon(self, ticket: Ticket) -> None:
        """The call's outcome says nothing about Mint: nothing is recorded, and a probe lets another one go."""
        if not ticket.probe_owner:
            return
        try:
            self._probe_lock(ticket.group).release(ticket.probe_owner)
        except Exception as exc:  # noqa: BLE001 - any cache backend failure: the breaker steps aside
            _warn("probe unlock", exc)

    def failed(self, ticket: Ticket, error: errors.MintError) -> None:
        """Records the outcome of a call that ended in ``error``; only failures of Mint itself count."""
        if not is_failure(error):
            self.succeeded(ticket)
            return
        try:
            self._record_failure(ticket, error)
        except Exception as exc:  # noqa: BLE001 - any cache backend failure: the breaker steps aside
            _warn("write", exc)

    def _record_failure(self, ticket: Ticket, error: errors.MintError) -> None:
        now = self.clock()
        state = self._read(ticket.group) or BreakerState(since=now)
        cooldown = self.config.breaker_cooldown
        if ticket.probe_owner:
            state = BreakerState(failures=state.failures + 1, since=state.since, open_until=now + cooldown)
            self._write(ticket.group, state)
            self._probe_lock(ticket.group).release(ticket.probe_owner)
            logger.warning("mint breaker %s open again for %.0f s: the probe failed (%s)", ticket.group, cooldown,
                           type(error).__name__)
            return
        if state.open_until is not None:
            # A call admitted before the breaker opened has failed too: it changes nothing.
            return
        if now - state.since > self.config.breaker_window:
            state = BreakerState(since=now)
        failures = state.failures + 1
        if failures >= self.config.breaker_failures:
            self._write(ticket.group, BreakerState(failures=failures, since=state.since, open_until=now + cooldown))
            logger.warning("mint breaker %s open for %.0f s after %d failures (last: %s %s)", ticket.group,
                           cooldown, failures, error.operation or "-", type(error).__name__)
            return
        self._write(ticket.group, BreakerState(failures=failures, since=state.since))

    # --- health, metrics and tests -------------------------------------------------------------

    def states(self) -> dict[str, str]:
        """Every group's phase (closed, open, half-open); a group whose state cannot be read counts as closed."""
        now = self.clock()
        try:
            # One round trip: every page's banner asks this (mintportal.middleware.current_outage).
            stored = self._cache.get_many([self._key(group) for group in GROUPS])
        except Exception as exc:  # noqa: BLE001 - any cache backend failure: the breaker steps aside
            _warn("read", exc)
            stored = {}
        phases = {}
        for group in GROUPS:
            state = BreakerState.from_json(stored.get(self._key(group)))
            phases[group] = state.phase(now) if state else CLOSED
        return phases

    def reset(self) -> None:
        """Closes every group's breaker (an operator's override, and a clean start for tests)."""
        try:
            self._cache.delete_many([self._key(group) for group in GROUPS])
            for group in GROUPS:
                self._probe_lock(group).clear()
        except Exception as exc:  # noqa: BLE001 - with the cache down there is no state to reset
            _warn("reset", exc)
