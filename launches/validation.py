"""The rules a journey input must pass before the portal asks Mint to start a journey.

One set of rules for the launch form and for every row of a bulk-launch CSV, so that a row the CSV
accepts is exactly what the form would have accepted. Mint's input parameters carry only names, so the
values are text: each declared parameter needs a non-blank value of reasonable length without control
characters. Problems are reported as ``(column, message)`` pairs, the column being the parameter name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

MAX_VALUE_LENGTH: Final = 4000
JOURNEY_URL_TTL_MIN: Final = 1
JOURNEY_URL_TTL_MAX: Final = 604800
JOURNEY_URL_TTL_DEFAULT: Final = 86400
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def value_errors(value: str | None) -> list[str]:
    """Why one parameter value is unacceptable (empty list when it is fine)."""
    if value is None or not value.strip():
        return ["A value is required."]
    problems = []
    if len(value) > MAX_VALUE_LENGTH:
        problems.append(f"At most {MAX_VALUE_LENGTH} characters (this has {len(value)}).")
    if _CONTROL.search(value):
        problems.append("Contains control characters.")
    return problems


def input_errors(*, parameters: Sequence[str], values: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """Every problem of one input, in parameter order, as ``(parameter, message)`` pairs."""
    return [(name, message) for name in parameters for message in value_errors(values.get(name))]


def clean_input(*, parameters: Sequence[str], values: Mapping[str, str | None]) -> dict[str, str]:
    """The journey input sent to Mint: each declared parameter's value with surrounding blanks removed."""
    return {name: (values.get(name) or "").strip() for name in parameters}


def header_errors(*, parameters: Sequence[str], header: Sequence[str]) -> list[str]:
    """File-level problems of a CSV header against the workflow's input parameters."""
    problems = []
    seen: set[str] = set()
    for column in header:
        if column in seen:
            problems.append(f"Column “{column}” appears more than once.")
        seen.add(column)
    missing = [name for name in parameters if name not in seen]
    unknown = [column for column in header if column not in parameters]
    if missing:
        problems.append("Missing column(s): " + ", ".join(missing) + ".")
    if unknown:
        problems.append(
            "Unknown column(s): " + ", ".join(c or "(blank)" for c in unknown)
            + ". The columns must be the workflow's input parameters: " + (", ".join(parameters) or "none") + "."
        )
    return problems
