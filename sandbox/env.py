"""A tiny strict reader of SANDBOX_* environment variables.

The sandbox must not import the portal (``mintportal.env``), so it carries its own reader. Every error names
the variable, so a bad value stops start-up with a message that says what to fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def read_str(name: str, default: str | None = None, *, environ: Mapping[str, str] = os.environ) -> str:
    """The variable's value, else ``default``; with no default the variable is required."""
    value = _raw(environ, name)
    if value is not None:
        return value
    if default is None:
        raise ImproperlyConfigured(f"{name} must be set")
    return default


def read_optional(name: str, *, environ: Mapping[str, str] = os.environ) -> str | None:
    """The variable's value, or None when it is unset or blank."""
    return _raw(environ, name)


def read_int(name: str, default: int, *, low: int, high: int, environ: Mapping[str, str] = os.environ) -> int:
    """A whole number within ``low..high`` (inclusive), else ``default`` when unset."""
    raw = _raw(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}, got {value}")
    return value


def read_bool(name: str, default: bool, *, environ: Mapping[str, str] = os.environ) -> bool:
    """true/false (also 1/0, yes/no, on/off), else ``default`` when unset."""
    raw = _raw(environ, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")
