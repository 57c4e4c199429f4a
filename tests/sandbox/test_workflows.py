"""Workflows: create, retrieve, update into versions, publish, list, files, validation and step types."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.helpers import Api, chain, invalid_names, link, step, unique

SIMPLE = chain(step("start", "set-name", template="Hello"), step("end", "finish"))


def test_creating_a_workflow_answers_version_1_with_every_field(api: Api) -> None:
    response = api.post("workflows", json={"name": "Onboarding", "description": None, **SIMPLE,
                                           "variables": {"tier": "gold"}, "tags": ["onboarding"],
                                           "inputParameters": [{"name": "email"}], "unknownField": 1})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "description", "version", "isLatest", "isPublished", "createdAt", "steps",
                         "connections", "variables", "tags", "domain", "workflowUrl", "inputParameters", "files"}
    assert body["version"] == 1
    assert body["isLatest"] is True
    assert body["isPublished"] is False
    assert body["description"] is None
    assert body["domain"] is None
    assert body["variables"] == {"tier": "gold"}
    assert body["steps"][0] == {"id": "start", "type": "set-name", "name": None, "displayName": None,
                                "description": None, "properties": {"template": "Hello"}}
    assert body["connections"] == [{"sourceStepId": "start", "targetStepId": "end", "outcome": None}]
    assert body["files"] == []
    assert api.get(f"workflows/{body['id']}").json() == body


def test_updating_makes_a_new_version_and_keeps_the_old_one(api: Api) -> None:
    created = api.create_workflow(SIMPLE)
    response = api.put(f"workflows/{created['id']}", json={"name": "Renamed", **SIMPLE})
    assert response.status_code == 200
    assert response.json()["version"] == 2
    latest = api.get(f"workflows/{created['id']}").json()
    assert (latest["version"], latest["name"], latest["isLatest"]) == (2, "Renamed", True)
    first = api.get(f"workflows/{created['id']}", params={"version": "1"}).json()
    assert (first["version"], first["name"], first["isLatest"]) == (1, created["name"], False)
    versions = api.get(f"workflows/{created['id']}/versions").json()
    assert versions["totalCount"] == 2
    assert [v["version"] for v in versions["data"]] == [2, 1]
    assert set(versions["data"][0]) == {"id", "workflowId", "version", "isLatest", "isPublished", "createdAt"}


def test_publishing_a_version_makes_journeys_start_from_it(api: Api) -> None:
    created = api.create_workflow(chain(step("a", "set-name", template="one"), step("end", "finish")))
    api.put(f"workflows/{created['id']}", json={"name": "v2", **chain(step("a", "set-name", template="two"))})
    published = api.post(f"workflows/{created['id']}/versions/1/publish")
    assert published.status_code == 200
    assert published.json()["isPublished"] is True
    journey = api.journey(api.start(created["id"])["journeyId"])
    assert (journey["version"], journey["name"]) == (1, "one")
    listing = api.get("workflows", params={"id": created["id"], "version": "published"}).json()
    assert [(w["version"], w["isPublished"], w["isLatest"]) for w in listing["data"]] == [(1, True, False)]
    latest = api.get("workflows", params={"id": created["id"]}).json()
    assert [(w["version"], w["isLatest"]) for w in latest["data"]] == [(2, True)]


def test_journeys_start_from_the_latest_version_when_none_is_published(api: Api) -> None:
    created = api.create_workflow(chain(step("a", "set-name", template="one")))
    api.put(f"workflows/{created['id']}", json={"name": "v2", **chain(step("a", "set-name", template="two"))})
    journey = api.journey(api.start(created["id"])["journeyId"])
    assert (journey["version"], journey["name"]) == (2, "two")


def test_unknown_workflows_and_versions_are_404(api: Api) -> None:
    created = api.create_workflow(SIMPLE)
    assert api.get("workflows/nope").status_code == 404
    assert api.get(f"workflows/{created['id']}", params={"version": 9}).status_code == 404
    assert api.put("workflows/nope", json={"name": "x", **SIMPLE}).status_code == 404
    assert api.get("workflows/nope/versions").status_code == 404
    assert api.post(f"workflows/{created['id']}/versions/7/publish").status_code == 404
    assert api.post("workflows/nope/journeys", json={}).status_code == 404
    problem = api.get("workflows/nope").json()
    assert problem["code"] == "not_found"
    assert problem["invalidParams"] == []


@pytest.mark.parametrize(("version", "status"), [("1", 200), ("01", 400), ("1.5", 400), ("abc", 400), ("-1", 404)])
def test_the_version_parameter_must_be_an_integer(api: Api, version: str, status: int) -> None:
    created = api.create_workflow(SIMPLE)
    assert api.get(f"workflows/{created['id']}", params={"version": version}).status_code == status


def test_wrong_methods_are_405(api: Api) -> None:
    response = api.call("DELETE", "workflows")
    assert response.status_code == 405
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_malformed_json_is_400(api: Api) -> None:
    response = api.post("workflows", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def long_steps(count: int) -> dict[str, Any]:
    return chain(*[step(f"s{i}", "set-name", template="x") for i in range(count)])


@pytest.mark.parametrize(("fields", "valid", "bad_name"), [
    ({"name": "n" * 255}, True, "name"),
    ({"name": "n" * 256}, False, "name"),
    ({"name": ""}, True, "name"),
    ({"name": None}, False, "name"),
    ({"name": 5}, False, "name"),
    ({"description": "d" * 5000}, True, "description"),
    ({"description": "d" * 5001}, False, "description"),
    ({"steps": long_steps(250)["steps"], "connections": long_steps(250)["connections"]}, True, "steps"),
    ({"steps": long_steps(251)["steps"], "connections": long_steps(251)["connections"]}, False, "steps"),
    ({"steps": "not a list"}, False, "steps"),
    ({"steps": [step("i" * 50, "finish")], "connections": None}, True, "steps[0].id"),
    ({"steps": [step("i" * 51, "finish")], "connections": None}, False, "steps[0].id"),
    ({"steps": [{"type": "finish"}], "connections": None}, False, "steps[0].id"),
    ({"steps": [{"id": "a"}], "connections": None}, False, "steps[0].type"),
    ({"variables": "not an object"}, False, "variables"),
    ({"tags": ["ok", 3]}, False, "tags[1]"),
    ({"inputParameters": [{"label": "no name"}]}, False, "inputParameters[0].name"),
    ({"steps": [step("w", "waiting", delay=604800)], "connections": None}, True, "steps[0].properties.delay"),
    ({"steps": [step("w", "waiting", delay=604801)], "connections": None}, False, "steps[0].properties.delay"),
    ({"steps": [step("w", "waiting", delay="01")], "connections": None}, False, "steps[0].properties.delay"),
    ({"steps": [step("a", "trigger-alert", severity="loud", message="m")], "connections": None}, False,
     "steps[0].properties.severity"),
    ({"steps": [step("a", "if-else", left="x", operator="like")], "connections": None}, False,
     "steps[0].properties.operator"),
])
def test_definition_fields_are_checked_against_the_reference_limits(api: Api, fields: dict[str, Any], valid: bool,
                                                                    bad_name: str) -> None:
    response = api.post("workflows", json={"name": unique(), **SIMPLE, **fields})
    if valid:
        assert response.status_code == 201, response.text
    else:
        assert bad_name in invalid_names(response)


@pytest.mark.parametrize(("definition", "bad_name"), [
    ({"steps": [step("a", "teleport")], "connections": None}, "steps[0].type"),
    ({"steps": [step("a", "set-name", template="x"), step("a", "finish")], "connections": None}, "steps[1].id"),
    ({"steps": [step("a", "set-name", template="x")], "connections": [link("a", "ghost")]},
     "connections[0].targetStepId"),
    ({"steps": [step("a", "set-name", template="x")], "connections": [link("ghost", "a")]},
     "connections[0].sourceStepId"),
    ({"steps": [step("a", "set-name", template="x"), step("b", "finish")], "connections": [link("a", "b", "Maybe")]},
     "connections[0].outcome"),
    ({"steps": [step("a", "finish"), step("b", "finish")], "connections": [link("a", "b")]},
     "connections[0].sourceStepId"),
    ({"steps": [step("a", "set-name", template="x"), step("b", "finish")], "connections": None}, "steps"),
    ({"steps": [step("a", "suspend"), step("b", "suspend")], "connections": [link("a", "b"), link("b", "a")]},
     "steps"),
    ({"steps": [], "connections": None}, "steps"),
])
def test_definitions_with_a_broken_graph_are_rejected_naming_the_problem(api: Api, definition: dict[str, Any],
                                                                        bad_name: str) -> None:
    response = api.post("workflows", json={"name": unique(), **definition})
    assert bad_name in invalid_names(response)


def test_every_invalid_field_is_named_at_once(api: Api) -> None:
    response = api.post("workflows", json={"name": "n" * 300, "description": 5,
                                           "steps": [step("a", "teleport")], "connections": None})
    assert {"name", "description", "steps[0].type"} <= set(invalid_names(response))


def test_a_rejected_update_writes_nothing(api: Api) -> None:
    created = api.create_workflow(SIMPLE)
    response = api.put(f"workflows/{created['id']}", json={"name": "bad", "steps": [step("a", "teleport")]})
    assert response.status_code == 400
    assert api.get(f"workflows/{created['id']}/versions").json()["totalCount"] == 1
    assert api.get(f"workflows/{created['id']}").json()["name"] == created["name"]


def test_a_rejected_create_writes_nothing(api: Api) -> None:
    name = unique()
    api.post("workflows", json={"name": name, "steps": [step("a", "finish"), step("a", "finish")]})
    assert api.get("workflows", params={"search": name}).json()["totalCount"] == 0


def test_workflow_files_can_be_uploaded_and_downloaded(api: Api) -> None:
    created = api.create_workflow(SIMPLE)
    upload = api.post(f"workflows/{created['id']}/files",
                      files={"file": ("terms.txt", b"The terms.", "text/plain")})
    assert upload.status_code == 201
    file = upload.json()
    assert file == {"id": file["id"], "filename": "terms.txt", "contentType": "text/plain", "size": 10}
    assert api.get(f"workflows/{created['id']}").json()["files"] == [file]
    download = api.get(f"workflows/{created['id']}/files/{file['id']}")
    assert download.status_code == 200
    assert download.content == b"The terms."
    assert download.headers["Content-Type"] == "text/plain"
    assert 'filename="terms.txt"' in download.headers["Content-Disposition"]
    assert api.get(f"workflows/{created['id']}/files/nope").status_code == 404
    assert "file" in invalid_names(api.post(f"workflows/{created['id']}/files", data={"x": "1"}))


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=",
                                          "multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=x"])
def test_an_upload_that_is_not_readable_multipart_is_a_400_problem(api: Api, content_type: str) -> None:
    created = api.create_workflow(SIMPLE)

    response = api.post(f"workflows/{created['id']}/files", data=b"--x\r\nnot a part\r\n",
                        headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["invalidParams"][0]["name"] in {"body", "file"}


def test_step_types_are_listed_with_their_metadata(api: Api) -> None:
    response = api.get("step-types")
    assert response.status_code == 200
    types = {t["type"]: t for t in response.json()}
    assert set(types) == {"form", "eid-login", "set-name", "if-else", "for-each", "trigger-alert", "waiting",
                          "suspend", "require-approval", "generate-document", "send-email", "fault", "finish"}
    assert types["require-approval"]["outcomes"] == ["Approved", "Rejected"]
    assert types["form"]["interactive"] is True
    assert set(types["form"]) == {"type", "displayName", "description", "category", "outcomes",
                                  "requiredPermissions", "deprecated", "interactive"}

