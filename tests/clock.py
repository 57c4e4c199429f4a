"""A clock for tests of timeouts and lockouts: ``django.utils.timezone.now`` under the test's control.

The ``clock`` fixture is registered for the whole suite in tests/conftest.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Frozen at the real current time (sessions and rows written before the test stay valid); moves on ``advance``."""
    frozen = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen
