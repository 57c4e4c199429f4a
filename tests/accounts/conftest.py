"""Fixtures of the accounts tests beyond the suite's own: the controllable clock (tests/clock.py)."""

from tests.clock import clock  # noqa: F401
