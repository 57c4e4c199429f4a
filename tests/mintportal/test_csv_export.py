"""The shared streaming CSV writer behind the journeys, audit and bulk-launch result exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from mintportal.csv_export import csv_cell, csv_lines


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_would_run_as_a_formula_gets_a_leading_quote(start):
    assert csv_cell(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"


def test_plain_values_none_and_datetimes_are_written_as_text():
    assert csv_cell("Kari Nordmann") == "Kari Nordmann"
    assert csv_cell(42) == "42"
    assert csv_cell(None) == ""
    assert csv_cell(datetime(2026, 11, 29, 12, 0, tzinfo=UTC)) == "2026-11-29T12:00:00+00:00"


def test_the_lines_read_back_as_the_header_and_the_guarded_rows():
    lines = csv_lines(["name", "note"], iter([["=cmd()", "a, \"quoted\"\nline"], ["Ola", None]]))
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows == [["name", "note"], ["'=cmd()", "a, \"quoted\"\nline"], ["Ola", ""]]


@pytest.mark.parametrize("text", ["x;=cmd|' /C calc'!A0", "a;b;+1", ";@SUM(1)", "ok;-2"])
def test_a_cell_split_on_semicolons_has_no_part_that_runs_as_a_formula(text):
    line = "".join(csv_lines(["cell"], iter([[text]]))).splitlines()[1]
    # A spreadsheet that splits on ";" (and ignores the quotes) must find no part that starts a formula.
    parts = line.strip('"').split(";")
    assert not any(part.startswith(("=", "+", "-", "@")) for part in parts)
    # A reader that honours the quotes gets the cell back whole, guarded.
    assert next(csv.reader(io.StringIO(line)))[0].replace(";'", ";").removeprefix("'") == text


def test_every_cell_is_quoted_so_a_semicolon_never_splits_it():
    line = "".join(csv_lines(["a", "b"], iter([["x;y", 3]]))).splitlines()[1]
    assert line == '"x;y","3"'
