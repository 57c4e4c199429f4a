"""Checks of request fields against the reference's limits, collecting every violation before answering.

A :class:`Checker` reads fields from a JSON object or a query string; each failed check records an
``invalidParams`` entry named by the field's path (``name``, ``steps[3].type``, ``input.approved``, ``limit``),
and :meth:`Checker.raise_if_invalid` answers them all at once, before anything is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from sandbox.core.problems import ApiError, InvalidParam, validation_error

# The reference's pattern for integers given as strings: no leading zeros, no fractions, optional minus. ASCII
# digits only, as the OpenAPI document's patterns spell them ([0-9]): int() would also read other scripts' digits.
INTEGER_PATTERN = re.compile(r"^-?(?:0|[1-9]\d*)$", re.ASCII)
# A JSON number literal (RFC 8259), for integers written into a URL by a client that holds them as numbers.
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
INT32_MIN = -2147483648
INT32_MAX = 2147483647

# RFC 8259's whitespace; bytes.strip() would also take form feeds and vertical tabs, which are not JSON.
JSON_WHITESPACE = b" \t\n\r"

_MISSING = object()


def required[T](value: T | None) -> T:
    """A required field's value after :meth:`Checker.raise_if_invalid`.

    By then a required field that was missing or invalid has been answered with a 400, so the value is set; a None
    here means the field was read without being checked as required, a bug in the sandbox and not a bad request.
    """
    if value is None:
        raise AssertionError("A required field was used without being checked as required.")
    return value


def parse_json_object(request: HttpRequest, *, allow_empty: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; malformed JSON or another JSON type is a 400.

    ``allow_empty`` treats an empty body as ``{}`` for operations whose fields are all optional.
    """
    raw = request.body
    if not raw.strip(JSON_WHITESPACE):
        if allow_empty:
            return {}
        raise validation_error([InvalidParam("body", "A JSON object is required.")], "The request body is empty.")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise validation_error([InvalidParam("body", "Must be a JSON object.")], "The request body must be an object.")
    return value


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date-time as aware UTC (naive values are taken as UTC), or None when it does not parse."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class Checker:
    """Collects invalid fields; each ``check_*`` returns the parsed value, or None when absent or invalid."""

    def __init__(self) -> None:
        self.invalid: list[InvalidParam] = []

    def add(self, name: str, reason: str) -> None:
        self.invalid.append(InvalidParam(name, reason))

    def has_error(self, name: str) -> bool:
        return any(p.name == name or p.name.startswith(name + ".") or p.name.startswith(name + "[")
                   for p in self.invalid)

    def _present(self, data: dict[str, Any], key: str, name: str, *, required: bool,
                 nullable: bool = True) -> Any:
        """The field's value, or None after recording a missing required (or null non-nullable) field."""
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.add(name, "Is required.")
            elif value is None and not nullable:
                self.add(name, "Must not be null.")
            return None
        return value

    def raise_if_invalid(self) -> None:
        if self.invalid:
            raise validation_error(self.invalid)

    def string(self, data: dict[str, Any], key: str, name: str | None = None, *, required: bool = False,
               nullable: bool = True, min_length: int = 0, max_length: int | None = None) -> str | None:
        """A string field with the reference's length bounds (in characters)."""
        name = name or key
        value = self._present(data, key, name, required=required, nullable=nullable)
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(name, "Must be a string.")
            return None
        if len(value) < min_length:
            self.add(name, f"Must be at least {min_length} characters long.")
            return None
        if max_length is not None and len(value) > max_length:
            self.add(name, f"Must be at most {max_length} characters long.")
            return None
        return value

    def integer(self, data: dict[str, Any], key: str, name: str | None = None, *, low: int, high: int,
                required: bool = False, nullable: bool = True, from_text: bool = False) -> int | None:
        """An integer given as a JSON integer (a whole-number float such as ``903.0`` included) or a digit string
        matching ``^-?(?:0|[1-9]\\d*)$``, in low..high.

        ``from_text`` is for values that arrived as text (a query parameter or a path segment), which carry no JSON
        type: there a JSON number literal with no fractional part (``903.0``, ``9e2``) is that integer too, as a
        client that writes the document's integer into the URL would send it.
        """
        name = name or key
        value = self._present(data, key, name, required=required, nullable=nullable)
        if value is None:
            return None
        if from_text and isinstance(value, str) and JSON_NUMBER.fullmatch(value):
            value = json.loads(value)
        return self.integer_value(value, name, low=low, high=high)

    def integer_value(self, value: Any, name: str, *, low: int, high: int) -> int | None:
        if isinstance(value, bool):
            self.add(name, "Must be an integer or a string of digits.")
            return None
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            # JSON Schema's integer is a number with no fractional part, so 903.0 is one (as in the document).
            number = int(value)
        elif isinstance(value, str) and INTEGER_PATTERN.match(value):
            number = int(value)
        else:
            self.add(name, "Must be an integer or a string matching ^-?(?:0|[1-9]\\d*)$.")
            return None
        if not low <= number <= high:
            self.add(name, f"Must be between {low} and {high}.")
            return None
        return number

    def boolean(self, data: dict[str, Any], key: str, name: str | None = None, *,
                required: bool = False) -> bool | None:
        name = name or key
        value = self._present(data, key, name, required=required)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(name, "Must be a boolean.")
            return None
        return value

    def obj(self, data: dict[str, Any], key: str, name: str | None = None, *,
            required: bool = False) -> dict[str, Any] | None:
        """A JSON object field (null allowed unless required)."""
        name = name or key
        value = self._present(data, key, name, required=required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.add(name, "Must be an object.")
            return None
        return value

    def array(self, data: dict[str, Any], key: str, name: str | None = None, *, required: bool = False,
              max_items: int | None = None) -> list[Any] | None:
        """A JSON array field (null allowed unless required) with an optional item limit."""
        name = name or key
        value = self._present(data, key, name, required=required)
        if value is None:
            return None
        if not isinstance(value, list):
            self.add(name, "Must be an array.")
            return None
        if max_items is not None and len(value) > max_items:
            self.add(name, f"Must have at most {max_items} items.")
            return None
        return value

    def objects(self, items: list[Any], name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each object item of an array with its path (``name[i]``); other items are recorded as invalid."""
        for index, item in enumerate(items):
            path = f"{name}[{index}]"
            if isinstance(item, dict):
                yield path, item
            else:
                self.add(path, "Must be an object.")

    def choice(self, data: dict[str, Any], key: str, choices: tuple[str, ...], name: str | None = None, *,
               required: bool = False) -> str | None:
        """A string that must be one of ``choices``."""
        name = name or key
        value = self._present(data, key, name, required=required)
        if value is None:
            return None
        if value not in choices:
            self.add(name, "Must be one of: " + ", ".join(choices) + ".")
            return None
        return value

    def datetime_value(self, data: dict[str, Any], key: str, name: str | None = None) -> datetime | None:
        """An ISO 8601 date-time (query parameters), aware UTC."""
        name = name or key
        value = data.get(key)
        if value is None:
            return None
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            self.add(name, "Must be an ISO 8601 date-time.")
        return parsed
