"""Business-data filters (journeys.datafilter): the parser's limits and messages, and the compiled SQL against a
plain Python reading of the documented rules, on the database the suite runs on (PostgreSQL with CI=true)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.datafilter import (
    MAX_COLUMNS,
    MAX_FILTERS,
    MAX_PATH,
    MAX_VALUE,
    DataFilterError,
    parse_columns,
    parse_condition,
    parse_conditions,
)
from journeys.models import Journey
from journeys.selectors import JourneyFilters, journey_queryset
from journeys.services.mirror import journey_mirror_changed
from tests.journeys.conftest import BASE_TIME
from tests.personas import WF_INSIDE, WF_OUTSIDE


def path_of(length: int) -> str:
    """A step-data path of exactly ``length`` characters (``s.kkkk…``)."""
    return "s." + "k" * (length - 2)


# --- the parser: limits just inside and just outside --------------------------------------------------------


def test_a_path_of_the_limit_is_taken_and_one_longer_is_refused() -> None:
    assert parse_condition(f"{path_of(MAX_PATH)} exists").path.text == path_of(MAX_PATH)
    with pytest.raises(DataFilterError, match=f"at most {MAX_PATH} characters"):
        parse_condition(f"{path_of(MAX_PATH + 1)} exists")


def test_a_path_a_thousand_characters_long_is_refused_with_its_length() -> None:
    with pytest.raises(DataFilterError, match="this one has 1000"):
        parse_condition(f"{path_of(1000)} = x")


def test_a_value_of_the_limit_is_taken_and_one_longer_is_refused() -> None:
    assert parse_condition(f"name = {'v' * MAX_VALUE}").value == "v" * MAX_VALUE
    with pytest.raises(DataFilterError, match=f"at most {MAX_VALUE} characters"):
        parse_condition(f"name = {'v' * (MAX_VALUE + 1)}")


def test_at_most_five_filters_are_taken() -> None:
    lines = [f"k{number} exists" for number in range(MAX_FILTERS)]
    conditions, problems = parse_conditions(lines)
    assert len(conditions) == MAX_FILTERS and problems == []
    conditions, problems = parse_conditions([*lines, "one exists"])
    assert conditions == () and problems == [f"At most {MAX_FILTERS} data filters at once (got {MAX_FILTERS + 1})."]


def test_at_most_five_data_columns_are_taken() -> None:
    names = [f"c{number}" for number in range(MAX_COLUMNS)]
    assert [path.text for path in parse_columns(", ".join(names))] == names
    with pytest.raises(DataFilterError, match=f"At most {MAX_COLUMNS} data columns"):
        parse_columns(", ".join([*names, "more"]))


@pytest.mark.parametrize("text, message", [
    ("risk.score >= 80", "Unknown operator “>=”"),
    ("customerNumber contains C-1", "Unknown operator “contains”"),
    ("customerNumber != C-1", "Unknown operator “!=”"),
    ("risk.score > abc", "neither a number nor an ISO date"),
    ("risk.score < 2026-13-01", "neither a number nor an ISO date"),
    ('risk.score > "80"', "neither a number nor an ISO date"),
    ("risk.score > 1e999", "a number too large"),
    ("customerNumber", "Add an operator"),
    ("customerNumber =", "needs a value"),
    ("customerNumber exists now", "takes no value"),
    ("= C-1", "Write a filter as"),
    ("risk..score = 1", "empty key"),
    ('ri"sk.score = 1', "may not contain “\"”"),
    ("a.b.c.d.e.f.g.h.i.j.k = 1", "at most 10 keys"),
])
def test_a_malformed_filter_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DataFilterError, match=re.escape(message)):
        parse_condition(text)


def test_paths_map_a_single_key_to_input_and_more_keys_to_step_data() -> None:
    assert parse_condition("customerNumber = C-100508").path.keys == ("input", "customerNumber")
    assert parse_condition("risk.score > 80").path.keys == ("steps", "risk", "score")
    assert parse_condition("risk.score>80").number == Decimal(80)
    assert parse_condition("review.signed < 2026-03-01T09:30").day == "2026-03-01T09:30"
    quoted = parse_condition('risk.level = "  80 "')
    assert quoted.quoted and quoted.value == "  80 " and quoted.number is None


# --- the SQL against the rules, by Hypothesis -------------------------------------------------------------------

# Small pools, so that the filters drawn often meet the values stored (and both sides of every rule get exercised).
KEYS = ["a", "0", "score"]
STEPS = ["risk", "review"]
TEXT = st.text(alphabet="aB_%\\-", min_size=0, max_size=3)
DAYS = ["2026-03-01", "2026-03-01T09:30:00Z", "2026-02-28", "2025-12-31T23:59"]
DATES = st.sampled_from([*DAYS, "2026-03-1x"])
NUMBERS = st.one_of(st.integers(min_value=-3, max_value=3), st.sampled_from([0.5, -2.25, 80.0, 1e16]))
SCALARS = st.one_of(NUMBERS, TEXT, DATES, st.booleans(), st.none(), st.sampled_from(["80", "true", "null"]))
VALUES = st.one_of(SCALARS, SCALARS, st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=2), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)), max_leaves=6))
OBJECTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=3)
DATA = st.fixed_dictionaries({
    "input": OBJECTS,
    "steps": st.dictionaries(st.sampled_from(STEPS), st.one_of(OBJECTS, OBJECTS, VALUES), max_size=2),
})
PATHS = st.one_of(
    st.sampled_from(KEYS),
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=2).flatmap(
        lambda keys: st.sampled_from(STEPS).map(lambda step: ".".join([step, *keys]))),
)
NUMBER_VALUES = st.one_of(st.integers(min_value=-3, max_value=3).map(str),
                          st.sampled_from(["0.50", "80", "1e16", "-2.25", "0.5"]))
FILTER_VALUES = st.one_of(
    NUMBER_VALUES, TEXT.filter(lambda text: text.strip() == text and text != ""), st.sampled_from(DAYS),
    st.sampled_from(["true", "false", "null", '"80"', '"true"', '"1"']),
)
CONTAINS_VALUES = st.text(alphabet="aAbB_%\\-", min_size=1, max_size=2)


def leaves(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every (path, value) the filters can reach in ``data``: input fields, and step data below each step."""
    found: list[tuple[str, Any]] = [(key, value) for key, value in data["input"].items()]

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                found.append((f"{prefix}.{key}", value))
                walk(f"{prefix}.{key}", value)

    for step, node in data["steps"].items():
        walk(step, node)
    return found


def value_text(value: Any) -> str | None:
    """A stored scalar as a filter would name it."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return str(Decimal(repr(value)))
    if isinstance(value, str) and value and value.strip() == value:
        return value
    return None


@st.composite
def filters(draw: st.DrawFn, datas: list[dict[str, Any]] = ()) -> str:
    """A filter; half the time on a path and near a value that one of ``datas`` holds."""
    known = [leaf for data in datas for leaf in leaves(data)]
    near = draw(st.sampled_from(known)) if known and draw(st.booleans()) else None
    path = near[0] if near else draw(PATHS)
    op = draw(st.sampled_from(["=", "~", ">", "<", "exists"]))
    stored = value_text(near[1]) if near else None
    if op == "exists":
        return f"{path} exists"
    if op in (">", "<"):
        value = draw(st.one_of(NUMBER_VALUES, st.sampled_from([*DAYS, "2026-03-01T09:30"])))
        if near and is_number(near[1]):
            value = str(Decimal(repr(near[1])) + draw(st.sampled_from([-1, 0, 1])))
    elif op == "~":
        value = draw(CONTAINS_VALUES)
        if near and isinstance(near[1], str) and near[1].strip():
            text = near[1].strip()
            value = draw(st.sampled_from([value, text[1:].upper() or text, text[:-1] or text.lower()]))
    else:
        value = draw(FILTER_VALUES)
        if stored is not None:
            value = draw(st.sampled_from([value, stored]))
    return f"{path} {op} {value}"


def located(data: dict[str, Any], path: str) -> tuple[bool, Any]:
    keys = path.split(".")
    node: Any = data["input"] if len(keys) == 1 else data["steps"]
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equals(stored: Any, value: str, quoted: bool, number: Decimal | None) -> bool:
    if isinstance(stored, str):
        return stored == value
    if quoted:
        return False
    if is_number(stored):
        return number is not None and Decimal(repr(stored)) == number
    literals = {True: "true", False: "false", None: "null"}
    return (stored is None or isinstance(stored, bool)) and literals[stored] == value


def compares(stored: Any, op: str, value: str, number: Decimal | None) -> bool:
    if number is not None:
        if not is_number(stored):
            return False
        return Decimal(repr(stored)) > number if op == ">" else Decimal(repr(stored)) < number
    if not isinstance(stored, str) or not re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", stored):
        return False
    return stored > value if op == ">" else stored < value


def expected(data: dict[str, Any], text: str) -> bool:
    """The rules of journeys/datafilter.py's docstring, read plainly."""
    path, op, *rest = text.split(" ", 2)
    raw = rest[0] if rest else ""
    found, stored = located(data, path)
    if not found or op == "exists":
        return found
    quoted = raw.startswith('"') and raw.endswith('"') and len(raw) >= 2
    value = raw[1:-1] if quoted else raw
    number = None if quoted or not re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", value) \
        else Decimal(value)
    if op == "~":
        return isinstance(stored, str) and value.lower() in stored.lower()
    if op == "=":
        return equals(stored, value, quoted, number)
    return compares(stored, op, value, number)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.lists(DATA, min_size=1, max_size=8).flatmap(
    lambda datas: st.tuples(st.just(datas), st.lists(filters(datas), min_size=1, max_size=3))))
def test_the_filtered_list_is_exactly_the_journeys_the_rules_select(
    superuser: User, case: tuple[list[dict[str, Any]], list[str]]
) -> None:
    datas, texts = case
    Journey.objects.all().delete()
    Journey.objects.bulk_create(
        Journey(id=f"j{number}", workflow_id=WF_INSIDE, version=1, status="active", seen_at=BASE_TIME,
                last_executed_at=BASE_TIME, data=data) for number, data in enumerate(datas))
    journey_mirror_changed()
    conditions, problems = parse_conditions(texts)
    assert problems == []

    rows = journey_queryset(user=superuser, filters=JourneyFilters(data=conditions))

    want = {f"j{number}" for number, data in enumerate(datas) if all(expected(data, text) for text in texts)}
    assert set(rows.values_list("id", flat=True)) == want
    assert rows.count() == len(want)


# --- scope ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(datas=st.lists(st.tuples(st.sampled_from([WF_INSIDE, WF_OUTSIDE]), DATA), min_size=1, max_size=8),
       texts=st.lists(filters(), min_size=1, max_size=2))
def test_a_user_never_gets_rows_or_counts_outside_their_scope(
    case_handler: User, datas: list[tuple[str, dict[str, Any]]], texts: list[str]
) -> None:
    Journey.objects.all().delete()
    Journey.objects.bulk_create(
        Journey(id=f"j{number}", workflow_id=workflow_id, version=1, status="active", seen_at=BASE_TIME,
                last_executed_at=BASE_TIME, data=data) for number, (workflow_id, data) in enumerate(datas))
    journey_mirror_changed()
    conditions, _ = parse_conditions(texts)

    rows = journey_queryset(user=case_handler, filters=JourneyFilters(data=conditions))

    want = {f"j{number}" for number, (workflow_id, data) in enumerate(datas)
            if workflow_id == WF_INSIDE and all(expected(data, text) for text in texts)}
    assert set(rows.values_list("id", flat=True)) == want
    assert rows.count() == len(want)


def test_a_line_past_the_line_limit_is_refused_before_it_is_parsed() -> None:
    from journeys.datafilter import MAX_LINE

    # Whitespace inside a value once made a backtracking pattern quadratic; now a long line is parsed in one pass
    # (and its value refused for its length), a longer one refused at once.
    spaced = "a = x" + " " * (MAX_LINE - 6) + "y"
    assert len(spaced) == MAX_LINE
    with pytest.raises(DataFilterError, match=f"A value may have at most {MAX_VALUE} characters"):
        parse_condition(spaced)
    with pytest.raises(DataFilterError, match=f"A filter may have at most {MAX_LINE} characters"):
        parse_condition(spaced + "z")
