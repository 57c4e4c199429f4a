"""Personal data in the journey mirror: whatever a workflow declares never reaches the database in clear, the
PersonalValue rows are exactly the hashes the data holds, and ``path = value`` still finds exactly the journeys
whose clear data held the value. Runs on the suite's database: SQLite by default, PostgreSQL with DATABASE_URL
(the filter's containment SQL differs there)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.datafilter import DataFilterError, parse_condition, parse_conditions
from journeys.models import Journey, PersonalValue
from journeys.selectors import JourneyFilters, journey_queryset
from journeys.services.mirror import journey_input_record, journey_mirror_refresh_many
from mintportal.mint import models
from privacy import kinds
from privacy.masking import hashes_in, is_marker
from privacy.models import PersonalDataDeclaration
from privacy.selectors import personal_paths
from tests.journeys.test_datafilter import expected as plain_expected
from tests.personas import WF_CONTRACTS, WF_INSIDE

pytestmark = pytest.mark.django_db

WORKFLOWS = (WF_INSIDE, WF_CONTRACTS)
# Filter paths and the declared root paths they stand for (a single key is an input field, more are step data).
PATHS = {"nid": "input.nid", "fullName": "input.fullName", "ref": "input.ref",
         "login.nid": "steps.login.nid", "login.email": "steps.login.email"}
KINDS = (kinds.NATIONAL_ID, kinds.NAME, kinds.EMAIL, kinds.PHONE, kinds.FREE_TEXT, kinds.DOCUMENT_NUMBER)
# Distinctive values (finding one in the database means it leaked), some equal under a kind's normalising
# ("Kari Nordmann" and "kari  NORDMANN" as names, "140385 12345" and "14038512345" as national ids).
VALUES = ("Kari Nordmann", "kari  NORDMANN", "14038512345", "140385 12345", "ola.hansen@example.no",
          "Nordmann Kari", "+47 91234567", "0047 91234567")
LEAVES = st.one_of(st.sampled_from(VALUES), st.sampled_from(VALUES), st.just(14038512345), st.none(), st.just(""))


def objects(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(keys), LEAVES, max_size=len(keys))


JOURNEY = st.fixed_dictionaries({
    "workflow": st.sampled_from(WORKFLOWS),
    "input": objects(["nid", "fullName", "ref"]),
    "steps": st.dictionaries(st.sampled_from(["login", "risk"]), objects(["nid", "email", "score"]), max_size=2),
    # Written through the input of a launch (journey_input_record) rather than the detail's.
    "launched": st.booleans(),
})
# Per example: the kind of each path, and which paths each workflow declares.
DECLARATIONS = st.tuples(
    st.fixed_dictionaries({path: st.sampled_from(KINDS) for path in PATHS.values()}),
    st.fixed_dictionaries({workflow: st.sets(st.sampled_from(sorted(PATHS.values()))) for workflow in WORKFLOWS}),
)


def declare(kind_of: dict[str, str], declared: dict[str, set[str]]) -> None:
    PersonalDataDeclaration.objects.all().delete()
    for workflow_id, paths in declared.items():
        PersonalDataDeclaration.objects.create(
            workflow_id=workflow_id, version=1, updated_at=timezone.now(),
            fields=[{"path": path, "kind": kind_of[path]} for path in sorted(paths)])


def detail(journey_id: str, journey: dict[str, Any]) -> models.JourneyDetail:
    wire: dict[str, Any] = {
        "id": journey_id, "workflowId": journey["workflow"], "version": 1, "status": "active",
        "name": f"Journey {journey_id}", "createdAt": "2026-05-01T08:00:00Z", "lastExecutedAt": "2026-05-01T09:00:00Z",
        "activeSteps": [], "alerts": [], "stepData": journey["steps"],
    }
    if not journey["launched"]:
        wire["input"] = journey["input"]
    return models.JourneyDetail.model_validate(wire)


def mirror(journeys: list[dict[str, Any]]) -> None:
    Journey.objects.all().delete()
    journey_mirror_refresh_many(journeys=[detail(f"j{number}", journey) for number, journey in enumerate(journeys)])
    for number, journey in enumerate(journeys):
        if journey["launched"] and journey["input"]:
            assert journey_input_record(journey_id=f"j{number}", input=journey["input"])


def clear_data(journey: dict[str, Any]) -> dict[str, Any]:
    return {"input": journey["input"] if journey["input"] or not journey["launched"] else {},
            "steps": journey["steps"]}


def located(data: dict[str, Any], root_path: str) -> tuple[bool, Any]:
    node: Any = data
    for key in root_path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """(root path, value) of every leaf of clear data."""
    if not isinstance(node, dict):
        return [(path, node)]
    return [leaf for key, value in node.items() for leaf in leaves(value, f"{path}.{key}" if path else key)]


def declared_values(journeys: list[dict[str, Any]], declared: dict[str, set[str]]) -> set[str]:
    """The values that are stored only at declared paths (the same value may also sit in a field its workflow
    does not declare, and stays there in clear)."""
    found, undeclared = set(), []
    for journey in journeys:
        for path, value in leaves(clear_data(journey)):
            if value not in (None, ""):
                if path in declared[journey["workflow"]]:
                    found.add(kinds.value_text(value))
                else:
                    undeclared.append(kinds.value_text(value).casefold())
    return {value for value in found if not any(value.casefold() in other for other in undeclared)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys=st.lists(JOURNEY, min_size=1, max_size=6), declarations=DECLARATIONS)
def test_no_declared_value_is_stored_in_clear_and_the_value_rows_are_the_data_hashes(
    journeys: list[dict[str, Any]], declarations: tuple[dict[str, str], dict[str, set[str]]]
) -> None:
    kind_of, declared = declarations
    declare(kind_of, declared)

    mirror(journeys)

    stored = dict(Journey.objects.values_list("id", "data"))
    dumped = json.dumps(stored, ensure_ascii=False)
    hashes = set(PersonalValue.objects.values_list("hash", flat=True))
    for value in declared_values(journeys, declared):
        assert value not in dumped, "a declared value was stored in clear"
        assert value.casefold() not in dumped.casefold(), "a declared value was stored in clear"
        assert value not in hashes
    for journey_id, data in stored.items():
        rows = set(PersonalValue.objects.filter(journey_id=journey_id).values_list("hash", flat=True))
        assert rows == hashes_in(data)
    # Each declared leaf is a marker where it was sent; undeclared leaves stay as they were.
    for number, journey in enumerate(journeys):
        for path in PATHS.values():
            present, value = located(clear_data(journey), path)
            if not present:
                continue
            _, kept = located(stored[f"j{number}"], path)
            if path in declared[journey["workflow"]] and value not in (None, ""):
                assert is_marker(kept)
            else:
                assert kept == value


def matches(journey: dict[str, Any], filter_path: str, value: str, kind_of: dict[str, str],
            declared: dict[str, set[str]]) -> bool:
    """Whether ``filter_path = value`` should find the journey, from its clear data alone."""
    root = PATHS[filter_path]
    data = clear_data(journey)
    present, stored = located(data, root)
    if present and root in declared[journey["workflow"]] and stored not in (None, ""):
        kind = kind_of[root]
        return kinds.normalise(kind, value) != "" and \
            kinds.normalise(kind, kinds.value_text(stored)) == kinds.normalise(kind, value)
    return plain_expected(data, f"{filter_path} = {value}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys=st.lists(JOURNEY, min_size=1, max_size=6), declarations=DECLARATIONS, draw=st.data())
def test_equals_finds_exactly_the_journeys_whose_clear_data_held_the_value(
    superuser: User, journeys: list[dict[str, Any]],
    declarations: tuple[dict[str, str], dict[str, set[str]]], draw: st.DataObject,
) -> None:
    kind_of, declared = declarations
    declare(kind_of, declared)
    mirror(journeys)
    # Mostly a path and value some journey holds (so the hash match is exercised), else anything.
    held = [(filter_path, kinds.value_text(value)) for journey in journeys for filter_path, root in PATHS.items()
            for present, value in [located(clear_data(journey), root)] if present and value not in (None, "")]
    anything = st.tuples(st.sampled_from(sorted(PATHS)), st.sampled_from([*VALUES, "null", "nothing-like-it"]))
    search = draw.draw(st.one_of(st.sampled_from(held), st.sampled_from(held), anything) if held else anything)
    filter_path, value = search
    conditions, problems = parse_conditions([f"{filter_path} = {value}"], personal=personal_paths())
    assert problems == []

    found = set(journey_queryset(user=superuser, filters=JourneyFilters(data=conditions))
                .values_list("id", flat=True))

    assert found == {f"j{number}" for number, journey in enumerate(journeys)
                     if matches(journey, filter_path, value, kind_of, declared)}


@pytest.mark.parametrize("line", ["nid ~ 1403", "nid > 1", "nid < 2026-01-01", "login.nid ~ 1"])
def test_a_partial_match_on_a_personal_path_is_refused_naming_the_field(line: str) -> None:
    personal = {"input.nid": frozenset({kinds.NATIONAL_ID}), "steps.login.nid": frozenset({kinds.NATIONAL_ID})}
    field = line.split(" ")[0]
    with pytest.raises(DataFilterError) as refused:
        parse_condition(line, personal=personal)
    assert str(refused.value) == f"“{field}” is personal data: search it with = (exact) or exists."
    assert parse_condition(f"{field} exists", personal=personal).op == "exists"
    # The same path where nothing is declared takes every operator.
    assert parse_condition(line).op == line.split(" ")[1]


def test_a_path_under_a_declared_object_is_personal_too() -> None:
    with pytest.raises(DataFilterError, match="is personal data"):
        parse_condition("login.person.nid ~ 1", personal={"steps.login.person": frozenset({kinds.NAME})})
