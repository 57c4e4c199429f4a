"""Listings: paging bounds, sort, search, filters and stable ties, on workflows, journeys and notes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.sandbox.helpers import Api, chain, invalid_names, step, unique
from tests.sandbox_process import SandboxProcess

LISTINGS = ["workflows", "journeys"]


@pytest.mark.parametrize("path", LISTINGS)
@pytest.mark.parametrize(("params", "bad_name"), [
    ({"offset": "0"}, None),
    ({"offset": 0}, None),
    ({"offset": "2147483647"}, None),
    ({"offset": "2147483648"}, "offset"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "01"}, "offset"),
    ({"offset": "1.5"}, "offset"),
    ({"offset": "x"}, "offset"),
    ({"limit": "1"}, None),
    ({"limit": "100"}, None),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"sort": "-createdAt"}, None),
    ({"sort": "s" * 51}, "sort"),
    ({"sort": "colour"}, "sort"),
    ({"sort": ""}, "sort"),
    ({"search": ""}, None),
    ({"search": "s" * 100}, None),
    ({"search": "s" * 101}, "search"),
])
def test_paging_parameters_are_checked_against_the_reference_bounds(api: Api, path: str, params: dict[str, str],
                                                                    bad_name: str | None) -> None:
    response = api.get(path, params=params)
    if bad_name is None:
        assert response.status_code == 200, response.text
    else:
        assert invalid_names(response) == [bad_name]


@pytest.mark.parametrize("path", LISTINGS)
def test_listings_have_the_envelope_and_default_limit(api: Api, path: str) -> None:
    body = api.get(path).json()
    assert set(body) == {"data", "offset", "limit", "totalCount"}
    assert (body["offset"], body["limit"]) == (0, 10)


def test_workflows_sort_by_name_with_ties_broken_by_id(api: Api) -> None:
    tag = unique("sort")
    ids = [api.create_workflow(chain(step("a", "finish")), name=f"{tag} {name}")["id"]
           for name in ("b", "a", "c", "a", "a")]
    ascending = api.get("workflows", params={"search": tag, "sort": "name", "limit": 100}).json()["data"]
    assert [w["name"][-1] for w in ascending] == ["a", "a", "a", "b", "c"]
    a_ids = [w["id"] for w in ascending[:3]]
    assert a_ids == sorted(a_ids)
    descending = api.get("workflows", params={"search": tag, "sort": "-name", "limit": 100}).json()["data"]
    assert [w["id"] for w in descending] == [w["id"] for w in reversed(ascending)]
    assert sorted(ids) == sorted(w["id"] for w in ascending)


def test_workflows_page_through_without_gaps_or_repeats(api: Api) -> None:
    tag = unique("page")
    created = {api.create_workflow(chain(step("a", "finish")), name=f"{tag} same")["id"] for _ in range(7)}
    seen = []
    for offset in range(0, 7, 3):
        page = api.get("workflows", params={"search": tag, "sort": "name", "offset": offset, "limit": 3}).json()
        assert page["totalCount"] == 7
        seen += [w["id"] for w in page["data"]]
    assert seen == sorted(created)


def test_workflows_search_matches_name_and_description_case_insensitively(api: Api) -> None:
    tag = unique("search")
    by_name = api.create_workflow(chain(step("a", "finish")), name=f"{tag.upper()} named")
    by_description = api.create_workflow(chain(step("a", "finish")), description=f"about {tag}")
    found = {w["id"] for w in api.get("workflows", params={"search": tag, "limit": 100}).json()["data"]}
    assert found == {by_name["id"], by_description["id"]}


def test_workflows_filter_by_repeated_id(api: Api) -> None:
    first, second, _third = (api.create_workflow(chain(step("a", "finish"))) for _ in range(3))
    body = api.get("workflows", params=[("id", first["id"]), ("id", second["id"])]).json()
    assert {w["id"] for w in body["data"]} == {first["id"], second["id"]}


@pytest.mark.parametrize(("count", "status"), [(100, 200), (101, 400)])
def test_the_id_filter_takes_at_most_100_ids(api: Api, count: int, status: int) -> None:
    response = api.get("workflows", params=[("id", f"w{i}") for i in range(count)])
    assert response.status_code == status


@pytest.mark.parametrize("version", ["oldest", ""])
def test_the_version_filter_is_an_enum(api: Api, version: str) -> None:
    assert invalid_names(api.get("workflows", params={"version": version})) == ["version"]


def test_workflows_sort_by_version(api: Api) -> None:
    tag = unique("ver")
    one = api.create_workflow(chain(step("a", "finish")), name=tag)
    two = api.create_workflow(chain(step("a", "finish")), name=tag)
    api.put(f"workflows/{two['id']}", json={"name": tag, **chain(step("a", "finish"))})
    data = api.get("workflows", params={"search": tag, "sort": "-version"}).json()["data"]
    assert [(w["id"], w["version"]) for w in data] == [(two["id"], 2), (one["id"], 1)]


def make_journeys(api: Api, sandbox: SandboxProcess, count: int, definition: dict | None = None,
                  **fields: str) -> tuple[str, list[str]]:
    """A workflow with ``count`` journeys started one sandbox-second apart; returns (workflow id, journey ids)."""
    workflow = api.create_workflow(definition or chain(step("n", "set-name", template="{{ input.name }}")), **fields)
    ids = []
    for index in range(count):
        ids.append(api.start(workflow["id"], {"name": f"person {index}"})["journeyId"])
        sandbox.advance_clock(1)
    return workflow["id"], ids


def test_journeys_filter_by_workflow_and_sort_by_last_execution(api: Api, sandbox: SandboxProcess) -> None:
    workflow_id, ids = make_journeys(api, sandbox, 4)
    body = api.get("journeys", params={"workflowId": workflow_id}).json()
    assert body["totalCount"] == 4
    assert [j["id"] for j in body["data"]] == list(reversed(ids))
    ascending = api.get("journeys", params={"workflowId": workflow_id, "sort": "lastExecutedAt"}).json()
    assert [j["id"] for j in ascending["data"]] == ids
    summary = body["data"][0]
    assert set(summary) == {"id", "workflowId", "version", "status", "name", "workflowName", "createdAt",
                            "lastExecutedAt", "finishedAt", "faultedAt", "cancelledAt", "pendingSteps", "alerts"}


def test_journeys_filter_by_last_execution_window(api: Api, sandbox: SandboxProcess) -> None:
    workflow_id, ids = make_journeys(api, sandbox, 3)
    middle = api.journey(ids[1])["lastExecutedAt"]
    after = api.get("journeys", params={"workflowId": workflow_id, "lastExecutedAfter": middle}).json()
    assert [j["id"] for j in after["data"]] == [ids[2]]
    before = api.get("journeys", params={"workflowId": workflow_id, "lastExecutedBefore": middle}).json()
    assert [j["id"] for j in before["data"]] == [ids[0]]
    naive = datetime.fromisoformat(middle.replace("Z", "")) - timedelta(milliseconds=1)
    both = api.get("journeys", params={"workflowId": workflow_id, "lastExecutedAfter": naive.isoformat(),
                                       "lastExecutedBefore": "2999-01-01T00:00:00+00:00"}).json()
    assert ids[1] in [j["id"] for j in both["data"]]


@pytest.mark.parametrize("value", ["yesterday", "", "2024-13-01T00:00:00Z"])
@pytest.mark.parametrize("name", ["lastExecutedAfter", "lastExecutedBefore"])
def test_invalid_dates_are_400(api: Api, name: str, value: str) -> None:
    assert invalid_names(api.get("journeys", params={name: value})) == [name]


def test_journeys_filter_by_status(api: Api, sandbox: SandboxProcess) -> None:
    workflow = api.create_workflow(chain(step("wait", "suspend"), step("end", "finish")))
    active = api.start(workflow["id"])["journeyId"]
    done = api.start(workflow["id"])["journeyId"]
    assert api.post(f"journeys/{done}/resume", json={"stepId": "wait"}).status_code == 204
    for status, expected in (("active", [active]), ("finished", [done]), ("faulted", [])):
        body = api.get("journeys", params={"workflowId": workflow["id"], "status": status}).json()
        assert [j["id"] for j in body["data"]] == expected
    assert invalid_names(api.get("journeys", params={"status": "sleeping"})) == ["status"]


def test_journeys_search_name_id_and_workflow_name(api: Api, sandbox: SandboxProcess) -> None:
    tag = unique("jsearch")
    workflow_id, ids = make_journeys(api, sandbox, 2, name=f"Workflow {tag}")
    by_workflow_name = api.get("journeys", params={"search": tag.upper()}).json()
    assert {j["id"] for j in by_workflow_name["data"]} == set(ids)
    by_id = api.get("journeys", params={"search": ids[0][:18]}).json()
    assert [j["id"] for j in by_id["data"]] == [ids[0]]
    by_name = api.get("journeys", params={"workflowId": workflow_id, "search": "person 1"}).json()
    assert [j["id"] for j in by_name["data"]] == [ids[1]]


@pytest.mark.parametrize("sort", ["name", "-name", "status", "createdAt", "workflowName", "version", "-version"])
def test_journeys_sort_by_each_sortable_field_with_ties_by_id(api: Api, sandbox: SandboxProcess, sort: str) -> None:
    workflow_id, ids = make_journeys(api, sandbox, 3, definition=chain(step("n", "set-name", template="same")))
    data = api.get("journeys", params={"workflowId": workflow_id, "sort": sort}).json()["data"]
    expected = sorted(ids, reverse=sort.startswith("-")) if sort != "createdAt" else ids
    assert [j["id"] for j in data] == expected


def test_notes_list_with_search_sort_and_date_filters(api: Api, sandbox: SandboxProcess) -> None:
    journey_id = api.run(chain(step("wait", "suspend")))["id"]
    notes = []
    for content in ("Called the customer", "Waiting for ID", "customer sent ID"):
        notes.append(api.post(f"journeys/{journey_id}/notes", json={"content": content}).json())
        sandbox.advance_clock(1)
    listing = api.get(f"journeys/{journey_id}/notes").json()
    assert [n["id"] for n in listing["data"]] == [n["id"] for n in reversed(notes)]
    assert listing["totalCount"] == 3
    found = api.get(f"journeys/{journey_id}/notes", params={"search": "CUSTOMER", "sort": "createdAt"}).json()
    assert [n["content"] for n in found["data"]] == ["Called the customer", "customer sent ID"]
    after = api.get(f"journeys/{journey_id}/notes", params={"createdAfter": notes[0]["createdAt"]}).json()
    assert after["totalCount"] == 2
    before = api.get(f"journeys/{journey_id}/notes", params={"createdBefore": notes[1]["createdAt"]}).json()
    assert [n["id"] for n in before["data"]] == [notes[0]["id"]]
    api.put(f"journeys/{journey_id}/notes/{notes[0]['id']}", json={"content": "edited"})
    by_update = api.get(f"journeys/{journey_id}/notes", params={"sort": "-updatedAt"}).json()
    assert by_update["data"][0]["id"] == notes[0]["id"]
    assert invalid_names(api.get(f"journeys/{journey_id}/notes", params={"sort": "content"})) == ["sort"]
    assert invalid_names(api.get(f"journeys/{journey_id}/notes", params={"createdAfter": "soon"})) == ["createdAfter"]
    assert invalid_names(api.get(f"journeys/{journey_id}/notes", params={"limit": "101"})) == ["limit"]


def test_versions_listing_pages(api: Api) -> None:
    created = api.create_workflow(chain(step("a", "finish")))
    for _ in range(3):
        api.put(f"workflows/{created['id']}", json={"name": "x", **chain(step("a", "finish"))})
    page = api.get(f"workflows/{created['id']}/versions", params={"offset": "1", "limit": "2"}).json()
    assert [v["version"] for v in page["data"]] == [3, 2]
    assert (page["offset"], page["limit"], page["totalCount"]) == (1, 2, 4)
    assert invalid_names(api.get(f"workflows/{created['id']}/versions", params={"limit": "0"})) == ["limit"]
