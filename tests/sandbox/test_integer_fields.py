"""Integer fields: the OpenAPI document and the server agree on every value, at the reference's limits.

Each field of the reference that is an ``integer or string <int32> [min .. max]`` is tried just inside and just
outside each limit, spelt as a JSON integer, a whole-number float (an integer to JSON Schema) and a string of
digits; the server must accept exactly what the served document's schema for that field accepts, and Hypothesis
checks the same agreement over other values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sandbox.helpers import Api, chain, invalid_names, step
from tests.sandbox_process import SandboxProcess

INT32_MIN = -2147483648
INT32_MAX = 2147483647
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)


@dataclass(frozen=True)
class Field:
    """One integer field: where the document describes it, its reference limits, and how to send a value."""

    name: str
    location: Callable[[dict[str, Any]], dict[str, Any]]
    minimum: int
    maximum: int
    in_query: bool
    send: Callable[[Api, dict[str, str], Any], requests.Response]


def _component(name: str, field: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def locate(document: dict[str, Any]) -> dict[str, Any]:
        schema = document["components"]["schemas"][name]["properties"][field]
        # Nullable fields are a union with null; the integer union is the other branch.
        return next(branch for branch in schema.get("anyOf", [schema]) if branch.get("type") != "null")
    return locate


def _query(path: str, method: str, name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def locate(document: dict[str, Any]) -> dict[str, Any]:
        parameters = document["paths"][path][method]["parameters"]
        return next(p["schema"] for p in parameters if p["name"] == name)
    return locate


def _delay(document: dict[str, Any]) -> dict[str, Any]:
    variants = document["components"]["schemas"]["WorkflowStepInput"]["anyOf"]
    waiting = next(v for v in variants if v["properties"]["type"] == {"const": "waiting"})
    return waiting["properties"]["properties"]["properties"]["delay"]


def _query_value(value: Any) -> str:
    # A query string has no types: a JSON Schema client writes the number as JSON does (903.0 stays 903.0).
    return value if isinstance(value, str) else repr(value)


FIELDS = [
    Field("limit", _query("/journeys", "get", "limit"), 1, 100, True,
          lambda api, ids, value: api.get("journeys", params={"limit": _query_value(value)})),
    Field("offset", _query("/journeys", "get", "offset"), 0, INT32_MAX, True,
          lambda api, ids, value: api.get("journeys", params={"offset": _query_value(value)})),
    Field("version", _query("/workflows/{workflowId}", "get", "version"), INT32_MIN, INT32_MAX, True,
          lambda api, ids, value: api.get(f"workflows/{ids['workflow']}",
                                          params={"version": _query_value(value)})),
    Field("journeyUrlTtl", _component("StartJourneyRequest", "journeyUrlTtl"), 1, 604800, False,
          lambda api, ids, value: api.post(f"workflows/{ids['workflow']}/journeys", json={"journeyUrlTtl": value})),
    Field("timeToLive", _component("JourneyUrlRequest", "timeToLive"), 0, 2592000, False,
          lambda api, ids, value: api.post(f"journeys/{ids['journey']}/url", json={"timeToLive": value})),
    Field("steps[0].properties.delay", _delay, 0, 604800, False,
          lambda api, ids, value: api.post("workflows", json={"name": "delay", **chain(step("pause", "waiting",
                                                                                             delay=value))})),
]


@pytest.fixture(scope="module")
def document(sandbox_process: SandboxProcess) -> dict[str, Any]:
    return requests.get(f"{sandbox_process.base_url}/openapi.json", timeout=10).json()


@pytest.fixture
def ids(api: Api) -> dict[str, str]:
    workflow = api.create_workflow(chain(step("hold", "suspend")))
    return {"workflow": workflow["id"], "journey": api.start(workflow["id"])["journeyId"]}


def spellings(number: int) -> list[Any]:
    """The ways a client may send ``number``: a JSON integer, a whole-number float, a string of digits."""
    return [number, float(number), str(number)] if abs(number) < 2 ** 53 else [number, str(number)]


def documented(field: Field, document: dict[str, Any], value: Any) -> bool:
    """Whether the document's schema for the field accepts ``value``. A value in the URL is text: the schema's
    string branch describes it as it is, and the integer branch when it is a JSON number literal."""
    schema = field.location(document)
    candidates = [value]
    if field.in_query and isinstance(value, str) and JSON_NUMBER.fullmatch(value):
        candidates.append(json.loads(value))
    return any(jsonschema.Draft202012Validator(schema).is_valid(candidate) for candidate in candidates)


def accepted(field: Field, response: requests.Response) -> bool:
    if response.status_code == 400:
        assert invalid_names(response) == [field.name], response.text
        return False
    # An in-range version the workflow lacks is a 404; everything else here succeeds.
    assert response.status_code in {200, 201, 404}, response.text
    return True


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name)
def test_each_limit_admits_the_value_just_inside_and_refuses_the_value_just_outside(field, api, ids, document):
    for number in (field.minimum - 1, field.minimum, field.maximum, field.maximum + 1):
        for value in spellings(number):
            expected = field.minimum <= number <= field.maximum
            assert documented(field, document, value) is expected, (value, field.location(document))
            assert accepted(field, field.send(api, ids, value)) is expected, value


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name)
def test_the_server_accepts_exactly_the_values_the_document_accepts(field, api, ids, document):
    near_a_limit = st.sampled_from([field.minimum, field.maximum]).flatmap(
        lambda limit: st.integers(limit - 3, limit + 3))
    numbers = near_a_limit | st.integers(field.minimum - 10 ** 6, field.maximum + 10 ** 6)
    texts = st.from_regex(r"\A-?[0-9]{1,11}(\.[0-9])?\Z") | st.sampled_from(["", "01", "-0", "1e3", " 5", "1٣"])
    values = numbers.flatmap(lambda n: st.sampled_from(spellings(n))) | texts

    @given(value=values)
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def agrees(value: Any) -> None:
        assert accepted(field, field.send(api, ids, value)) is documented(field, document, value), value

    agrees()


def test_a_fractional_number_is_refused_where_an_integer_is_expected(api, ids):
    response = api.post(f"journeys/{ids['journey']}/url", json={"timeToLive": 60.5})

    assert invalid_names(response) == ["timeToLive"]


def test_digits_of_other_scripts_are_not_a_number(api):
    response = api.get("journeys", params={"limit": "1٣"})

    assert invalid_names(response) == ["limit"]


@pytest.mark.parametrize(("steps", "status"), [(0, 400), (1, 201)])
def test_a_workflow_needs_at_least_one_step_as_the_document_says(api, document, steps, status):
    definition = chain(*[step(f"s{index}", "suspend") for index in range(steps)])
    schema = document["components"]["schemas"]["WorkflowRequest"]["properties"]["steps"]

    response = api.post("workflows", json={"name": "steps", **definition})

    assert response.status_code == status
    assert schema["minItems"] == 1
