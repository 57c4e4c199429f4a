"""The control API's state: call counters, injected faults and config overrides.

The sandbox serves from one process, so this state lives in memory behind a lock (it must not cost a database
write per request). ``POST /_sandbox/reset`` clears it together with the clock offset.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse

_lock = threading.Lock()
_counters: Counter[str] = Counter()


@dataclass
class Fault:
    """An injected fault: requests whose path matches ``pattern`` (and ``method``, when set) are delayed by
    ``latency_ms`` and, when ``status`` is set, answered with that status. ``times`` counts down (None: forever)."""

    id: str
    pattern: re.Pattern[str]
    method: str | None
    status: int | None
    latency_ms: int
    retry_after: int | None
    times: int | None


_faults: list[Fault] = []
_overrides: dict[str, int] = {}


def control_enabled() -> bool:
    return bool(settings.SANDBOX_CONTROL)


def require_control[**P](view: Callable[P, HttpResponse]) -> Callable[P, HttpResponse]:
    """Makes a control view answer 404 unless SANDBOX_CONTROL is on."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not control_enabled():
            raise Http404("The control API is off.")
        return view(*args, **kwargs)

    return wrapper


def serves[V: Callable[..., HttpResponse]](**operation_ids: str) -> Callable[[V], V]:
    """Names the operation each method of a view serves (``GET="getJourney"``), for the counters and faults.

    The names ride in the function's ``__dict__``, which every function has, so that no attribute Django's view
    type lacks is assigned."""

    def mark(view: V) -> V:
        view.__dict__["operations"] = operation_ids
        return view

    return mark


def operations_of(view: Callable[..., object]) -> dict[str, str]:
    """The operation ids :func:`serves` gave ``view`` by method (none for views outside the API)."""
    return getattr(view, "operations", {})


def count(operation_id: str) -> None:
    with _lock:
        _counters[operation_id] += 1


def counters() -> dict[str, int]:
    with _lock:
        return dict(_counters)


def reset_counters() -> None:
    with _lock:
        _counters.clear()


def add_fault(*, path: str, method: str | None, status: int | None, latency_ms: int, retry_after: int | None,
              times: int | None) -> Fault:
    fault = Fault(id=str(uuid.uuid4()), pattern=re.compile(path), method=method.upper() if method else None,
                  status=status, latency_ms=latency_ms, retry_after=retry_after, times=times)
    with _lock:
        _faults.append(fault)
    return fault


def clear_faults() -> None:
    with _lock:
        _faults.clear()


def take_fault(method: str, path: str) -> Fault | None:
    """The first fault matching this request, counting one use of it (a used-up fault is removed)."""
    with _lock:
        for fault in _faults:
            if fault.method and fault.method != method.upper():
                continue
            if not fault.pattern.search(path):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    _faults.remove(fault)
            return fault
    return None


def set_override(name: str, value: int | None) -> None:
    with _lock:
        if value is None:
            _overrides.pop(name, None)
        else:
            _overrides[name] = value


def token_ttl() -> int:
    """Seconds an access token issued now lives: the override, else SANDBOX_TOKEN_TTL."""
    with _lock:
        return _overrides.get("tokenTtl", settings.SANDBOX_TOKEN_TTL)


def inactivity_limit() -> int:
    """Seconds an active journey may wait before it is cancelled: the override, else SANDBOX_INACTIVITY_LIMIT."""
    with _lock:
        return _overrides.get("inactivityLimit", settings.SANDBOX_INACTIVITY_LIMIT)


def reset() -> None:
    """Clears counters, faults and overrides."""
    with _lock:
        _counters.clear()
        _faults.clear()
        _overrides.clear()
