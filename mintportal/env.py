"""Strict readers for settings taken from environment variables.

Every reader raises ``ImproperlyConfigured`` naming the variable, so a bad value stops start-up
with a message that says which variable to fix instead of failing later somewhere else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_HEADER_NAME = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")


class Env:
    """Reads variables from a mapping (``os.environ`` by default) and validates each one."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self._raw(name)
        if value is None:
            if required or default is None:
                raise ImproperlyConfigured(f"{name} must be set")
            return default
        return value

    def optional_text(self, name: str) -> str | None:
        return self._raw(name)

    def integer(self, name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ImproperlyConfigured(f"{name} must be between {low} and {high}, got {value}")
        return value

    def number(self, name: str, default: float, *, low: float | None = None, high: float | None = None) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ImproperlyConfigured(f"{name} must be between {low} and {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, default: str, *, choices: tuple[str, ...]) -> str:
        """One of ``choices`` (compared without regard to case)."""
        raw = self._raw(name)
        if raw is None:
            return default
        if raw.lower() not in choices:
            raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return raw.lower()

    def comma_list(self, name: str, default: list[str] | None = None) -> list[str]:
        raw = self._raw(name)
        if raw is None:
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    def url(self, name: str, default: str | None = None, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
        value = self.text(name, default)
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            raise ImproperlyConfigured(
                f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {value!r}"
            )
        return value.rstrip("/")

    def optional_url(self, name: str, *, schemes: tuple[str, ...]) -> str | None:
        if self._raw(name) is None:
            return None
        return self.url(name, schemes=schemes)

    def optional_header(self, name: str) -> str | None:
        """An HTTP header name such as ``X-Forwarded-Proto``, as its ``request.META`` key
        (``HTTP_X_FORWARDED_PROTO``)."""
        raw = self._raw(name)
        if raw is None:
            return None
        if not _HEADER_NAME.fullmatch(raw):
            raise ImproperlyConfigured(f"{name} must be an HTTP header name such as X-Forwarded-Proto, got {raw!r}")
        return "HTTP_" + raw.upper().replace("-", "_")


env = Env()
