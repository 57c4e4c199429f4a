"""The control API: counters, injected faults, config overrides, and its absence when control is off."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.sandbox.helpers import Api, chain, step
from tests.sandbox_process import SandboxProcess


def test_counters_count_each_operation_even_when_it_fails(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.reset_counters()
    api.get("journeys")
    api.get("journeys", params={"limit": "0"})
    requests.get(f"{sandbox.base_url}/workflows", timeout=10)
    api.get("workflows/nope")
    sandbox.token()
    assert sandbox.counters() == {"listJourneys": 2, "listWorkflows": 1, "getWorkflow": 1, "token": 1}
    sandbox.reset_counters()
    assert sandbox.counters() == {}


def test_every_operation_has_its_counter(api: Api, sandbox: SandboxProcess) -> None:
    workflow = api.create_workflow(chain(step("hold", "suspend"), step("approval", "require-approval"),
                                         step("doc", "generate-document", filename="a.txt", content="x")))
    file_id = api.post(f"workflows/{workflow['id']}/files", files={"file": ("a.txt", b"a")}).json()["id"]
    journey_id = api.start(workflow["id"])["journeyId"]
    sandbox.reset_counters()
    api.get("workflows")
    api.post("workflows", json={"name": "x", **chain(step("a", "finish"))})
    api.get(f"workflows/{workflow['id']}")
    api.put(f"workflows/{workflow['id']}", json={"name": "x", **chain(step("hold", "suspend"),
                                                                      step("approval", "require-approval"))})
    api.get(f"workflows/{workflow['id']}/versions")
    api.post(f"workflows/{workflow['id']}/versions/1/publish")
    api.post(f"workflows/{workflow['id']}/files", files={"file": ("b.txt", b"b")})
    api.get(f"workflows/{workflow['id']}/files/{file_id}")
    api.post(f"workflows/{workflow['id']}/journeys", json={})
    api.get("journeys")
    api.get(f"journeys/{journey_id}")
    api.post(f"journeys/{journey_id}/resume", json={"stepId": "hold"})
    api.post(f"journeys/{journey_id}/approve", json={"stepId": "approval", "input": {"approved": True}})
    api.post(f"journeys/{journey_id}/url", json={})
    api.get(f"journeys/{journey_id}/log")
    note_id = api.post(f"journeys/{journey_id}/notes", json={"content": "x"}).json()["id"]
    api.get(f"journeys/{journey_id}/notes")
    api.put(f"journeys/{journey_id}/notes/{note_id}", json={"content": "y"})
    api.get("step-types")
    secret_id = api.post("secrets", json={"name": "n", "value": "v"}).json()["id"]
    api.patch(f"secrets/{secret_id}", json={"value": "w"})
    journey_file = api.journey(journey_id)["files"][0]["id"]
    api.get(f"journeys/{journey_id}/files/{journey_file}")
    counters = sandbox.counters()
    assert set(counters) == {
        "listWorkflows", "createWorkflow", "getWorkflow", "updateWorkflow", "listWorkflowVersions",
        "publishWorkflowVersion", "uploadWorkflowFile", "downloadWorkflowFile", "startJourney", "listJourneys",
        "getJourney", "resumeJourney", "approveJourney", "createJourneyUrl", "getJourneyLog", "createJourneyNote",
        "listJourneyNotes", "updateJourneyNote", "listStepTypes", "createSecret", "updateSecret",
        "downloadJourneyFile",
    }
    assert counters["getJourney"] == 2


def test_a_fault_answers_its_status_with_retry_after_a_number_of_times(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.add_fault(path=r"^/mint/journeys$", method="GET", status=429, retry_after=7, times=2)
    for _ in range(2):
        response = api.get("journeys")
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.headers["Content-Type"].startswith("application/problem+json")
    assert api.get("journeys").status_code == 200
    assert sandbox.count("listJourneys") == 3


def test_a_fault_matches_its_method_and_path_only(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.add_fault(path=r"/workflows$", method="POST", status=503)
    assert api.get("workflows").status_code == 200
    assert api.post("workflows", json={"name": "x", **chain(step("a", "finish"))}).status_code == 503
    sandbox.clear_faults()
    assert api.post("workflows", json={"name": "x", **chain(step("a", "finish"))}).status_code == 201


def test_a_fault_on_the_token_endpoint_breaks_token_requests(sandbox: SandboxProcess) -> None:
    sandbox.add_fault(path=r"/connect/token", status=500, times=1)
    with pytest.raises(requests.HTTPError):
        sandbox.token()
    assert sandbox.token()


def test_latency_on_one_path_does_not_block_others(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.add_fault(path=r"^/mint/step-types$", latency_ms=1500, times=1)
    slow_started = time.monotonic()
    slow_elapsed: list[float] = []

    def slow_call() -> None:
        api.get("step-types")
        slow_elapsed.append(time.monotonic() - slow_started)

    thread = threading.Thread(target=slow_call)
    thread.start()
    fast_started = time.monotonic()
    assert api.get("journeys").status_code == 200
    fast_elapsed = time.monotonic() - fast_started
    thread.join()
    assert slow_elapsed[0] >= 1.5
    assert fast_elapsed < 1.0


def test_reset_clears_faults_counters_config_and_the_clock(api: Api, sandbox: SandboxProcess) -> None:
    sandbox.add_fault(path=".*", status=500)
    sandbox.set_config(tokenTtl=5)
    advanced = sandbox.advance_clock(86400)
    sandbox.reset()
    assert api.get("journeys").status_code == 200
    assert sandbox.counters() == {"listJourneys": 1}
    assert sandbox.advance_clock(0) < advanced
    response = requests.post(sandbox.token_url, data={"grant_type": "client_credentials", "scope": "signicat-api",
                                                      "client_id": sandbox.client_id,
                                                      "client_secret": sandbox.client_secret}, timeout=10)
    assert response.json()["expires_in"] == 600


def test_the_clock_only_moves_forward(sandbox: SandboxProcess) -> None:
    response = sandbox.http.post(f"{sandbox.root_url}/_sandbox/clock", json={"advance": -5}, timeout=10)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "advance"


def test_config_rejects_values_out_of_range(sandbox: SandboxProcess) -> None:
    response = sandbox.http.put(f"{sandbox.root_url}/_sandbox/config", json={"tokenTtl": 3601}, timeout=10)
    assert response.status_code == 400
    assert response.json()["invalidParams"] == [{"name": "tokenTtl", "reason": "Must be between 1 and 3600."}]


def test_clients_need_known_roles(sandbox: SandboxProcess) -> None:
    response = sandbox.http.post(f"{sandbox.root_url}/_sandbox/clients",
                                 json={"clientId": "x", "clientSecret": "y", "roles": ["Flow Admin"]}, timeout=10)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "roles[0]"


@pytest.fixture(scope="module")
def sandbox_without_control(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    process = SandboxProcess(workdir=tmp_path_factory.mktemp("sandbox-no-control"),
                             extra_env={"SANDBOX_CONTROL": "false"})
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.parametrize(("method", "path"), [("POST", "reset"), ("GET", "counters"), ("POST", "faults"),
                                              ("PUT", "config"), ("POST", "clock"), ("POST", "tokens/revoke"),
                                              ("POST", "clients"), ("GET", "outbox"), ("POST", "webhooks"),
                                              ("GET", "deliveries"), ("POST", "journeys/x/cancel")])
def test_the_control_api_is_404_when_control_is_off(sandbox_without_control: SandboxProcess, method: str,
                                                    path: str) -> None:
    response = requests.request(method, f"{sandbox_without_control.root_url}/_sandbox/{path}", json={}, timeout=10)
    assert response.status_code == 404
    assert requests.get(f"{sandbox_without_control.root_url}/_sandbox/health", timeout=10).json() == {"status": "ok"}


def test_a_frozen_clock_moves_only_when_advanced_until_reset(sandbox: SandboxProcess) -> None:
    frozen = sandbox.freeze_clock()
    requests.get(f"{sandbox.root_url}/_sandbox/health", timeout=10)
    assert sandbox.advance_clock(0) == frozen
    assert sandbox.advance_clock(1.5) > frozen
    sandbox.reset()
    first = sandbox.advance_clock(0)
    # Running again after the reset: a later reading differs without any advance (polled, bounded).
    deadline = time.monotonic() + 5
    while sandbox.advance_clock(0) == first:
        assert time.monotonic() < deadline, "the clock stayed frozen after reset"


def test_freeze_must_be_true_or_false(sandbox: SandboxProcess) -> None:
    response = requests.post(f"{sandbox.root_url}/_sandbox/clock", json={"freeze": "yes"}, timeout=10)
    assert response.status_code == 400
    assert [p["name"] for p in response.json()["invalidParams"]] == ["freeze"]
