"""Streaming CSV for the portal's exports: one line writer, and every cell guarded against formulas.

Exports are streamed (``StreamingHttpResponse`` over these lines) so that their size never grows memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); such cells get a
# leading quote. Journey names, notes and summaries come from people and from Mint, so no cell is trusted.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _guarded(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """One cell as text: empty for None, ISO 8601 for a datetime, and guarded where it would run as a formula.

    Spreadsheets in many locales split CSV on ``;``, so every ``;``-separated part of a cell is guarded too
    (``x;=cmd()`` becomes ``x;'=cmd()``); and every cell is quoted (see :func:`csv_lines`), so a reader that
    honours quotes keeps the cell whole.
    """
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return ";".join(_guarded(part) for part in text.split(";"))


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header, then one CSV line per row, each cell passed through :func:`csv_cell` and quoted."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])
