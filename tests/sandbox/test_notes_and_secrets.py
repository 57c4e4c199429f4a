"""Journey notes (create, list, update) and workflow secrets (create, update; the value never comes back)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.helpers import Api, chain, invalid_names, step, unique
from tests.sandbox_process import SandboxProcess


@pytest.fixture
def journey_id(api: Api) -> str:
    return api.run(chain(step("hold", "suspend")))["id"]


def test_a_note_is_created_by_the_api_client_and_can_be_updated(api: Api, journey_id: str,
                                                                 sandbox: SandboxProcess) -> None:
    response = api.post(f"journeys/{journey_id}/notes", json={"stepId": "hold", "content": "Called the customer"})
    assert response.status_code == 201
    note = response.json()
    assert set(note) == {"id", "stepId", "content", "createdAt", "createdBy", "updatedAt"}
    assert (note["stepId"], note["createdBy"], note["updatedAt"]) == ("hold", sandbox.client_id, None)
    updated = api.put(f"journeys/{journey_id}/notes/{note['id']}", json={"content": "Customer called back"})
    assert updated.status_code == 200
    assert updated.json()["content"] == "Customer called back"
    assert updated.json()["updatedAt"] is not None
    assert updated.json()["createdAt"] == note["createdAt"]
    listed = api.get(f"journeys/{journey_id}/notes").json()
    assert listed["data"] == [updated.json()]


@pytest.mark.parametrize(("body", "bad_name"), [
    ({"content": "c" * 1000}, None),
    ({"content": ""}, None),
    ({"content": "c" * 1001}, "content"),
    ({}, "content"),
    ({"content": None}, "content"),
    ({"content": 7}, "content"),
    ({"content": "ok", "stepId": "s" * 50}, None),
    ({"content": "ok", "stepId": "s" * 51}, "stepId"),
])
def test_note_fields_are_checked(api: Api, journey_id: str, body: dict[str, Any], bad_name: str | None) -> None:
    response = api.post(f"journeys/{journey_id}/notes", json=body)
    if bad_name is None:
        assert response.status_code == 201
    else:
        assert invalid_names(response) == [bad_name]


def test_a_rejected_note_update_changes_nothing(api: Api, journey_id: str) -> None:
    note = api.post(f"journeys/{journey_id}/notes", json={"content": "original"}).json()
    assert invalid_names(api.put(f"journeys/{journey_id}/notes/{note['id']}", json={"content": "c" * 1001})
                         ) == ["content"]
    assert api.get(f"journeys/{journey_id}/notes").json()["data"][0]["content"] == "original"


def test_notes_of_unknown_journeys_or_ids_are_404(api: Api, journey_id: str) -> None:
    assert api.post("journeys/nope/notes", json={"content": "x"}).status_code == 404
    assert api.get("journeys/nope/notes").status_code == 404
    assert api.put(f"journeys/{journey_id}/notes/nope", json={"content": "x"}).status_code == 404


def test_a_secret_is_created_and_updated_without_its_value_ever_coming_back(api: Api,
                                                                            sandbox: SandboxProcess) -> None:
    value = unique("s3cr3t-value")
    response = api.post("secrets", json={"name": "crm-key", "description": "CRM API key", "value": value})
    assert response.status_code == 201
    secret = response.json()
    assert set(secret) == {"id", "name", "description", "createdAt", "updatedAt"}
    new_value = unique("rotated-value")
    updated = api.patch(f"secrets/{secret['id']}", json={"value": new_value})
    assert updated.status_code == 200
    assert updated.json()["name"] == "crm-key"
    assert updated.json()["description"] == "CRM API key"
    assert updated.json()["updatedAt"] is not None
    renamed = api.patch(f"secrets/{secret['id']}", json={"name": "crm", "description": None}).json()
    assert (renamed["name"], renamed["description"]) == ("crm", "CRM API key")
    for text in (response.text, updated.text, sandbox.log_tail(2000)):
        assert value not in text
        assert new_value not in text


@pytest.mark.parametrize(("body", "bad_name"), [
    ({"name": "n", "value": ""}, None),
    ({"name": "n" * 50, "value": "v" * 4000, "description": "d" * 100}, None),
    ({"name": "", "value": "v"}, "name"),
    ({"name": "n" * 51, "value": "v"}, "name"),
    ({"value": "v"}, "name"),
    ({"name": "n"}, "value"),
    ({"name": "n", "value": "v" * 4001}, "value"),
    ({"name": "n", "value": "v", "description": "d" * 101}, "description"),
])
def test_secret_fields_are_checked(api: Api, body: dict[str, Any], bad_name: str | None) -> None:
    response = api.post("secrets", json=body)
    if bad_name is None:
        assert response.status_code == 201
    else:
        assert invalid_names(response) == [bad_name]


def test_updating_an_unknown_secret_is_404_and_bad_fields_are_400(api: Api) -> None:
    assert api.patch("secrets/nope", json={"name": "x"}).status_code == 404
    secret = api.post("secrets", json={"name": "n", "value": "v"}).json()
    assert invalid_names(api.patch(f"secrets/{secret['id']}", json={"name": "", "value": "v" * 4001})
                         ) == ["name", "value"]
