"""The sandbox's OpenAPI document stays true: schemathesis generates requests for every operation from the
document served by the live sandbox, and every answer must be documented (status code, content type, body
schema), never a server error, and requests that break the document must be rejected.

Path ids point at real resources (a workflow with a file, a journey waiting at a suspend step with a note and
a generated file, a secret), so that success responses are validated and not only 404s.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.sandbox_process import SandboxProcess

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# Every operation the sandbox serves under /mint: Mint's API (DESIGN.md's table) and the sandbox's extensions.
OPERATION_IDS = [
    "listWorkflows", "createWorkflow", "getWorkflow", "updateWorkflow", "startJourney", "listWorkflowVersions",
    "publishWorkflowVersion", "uploadWorkflowFile", "downloadWorkflowFile", "listJourneys", "getJourney",
    "resumeJourney", "approveJourney", "createJourneyUrl", "getJourneyLog", "createJourneyNote", "listJourneyNotes",
    "updateJourneyNote", "downloadJourneyFile", "listStepTypes", "createSecret", "updateSecret",
]

DEFINITION = {
    "name": "OpenAPI property test",
    "steps": [
        {"id": "document", "type": "generate-document",
         "properties": {"filename": "receipt.txt", "format": "text", "content": "Receipt"}},
        {"id": "check", "type": "suspend"},
        {"id": "done", "type": "finish"},
    ],
    "connections": [
        {"sourceStepId": "document", "targetStepId": "check"},
        {"sourceStepId": "check", "targetStepId": "done"},
    ],
}


@pytest.fixture(scope="module")
def resources(sandbox_process: SandboxProcess) -> dict[str, str]:
    """Real ids for every path parameter, created once for the module."""
    api = sandbox_process.api
    workflow = api("POST", "workflows", json=DEFINITION).json()
    file = api("POST", f"workflows/{workflow['id']}/files",
               files={"file": ("terms.txt", b"Terms and conditions", "text/plain")}).json()
    journey_id = api("POST", f"workflows/{workflow['id']}/journeys", json={}).json()["journeyId"]
    journey = api("GET", f"journeys/{journey_id}").json()
    note = api("POST", f"journeys/{journey_id}/notes", json={"content": "Called the customer."}).json()
    secret = api("POST", "secrets", json={"name": "crm-api-key", "value": "not-a-real-key"}).json()
    return {
        "workflowId": workflow["id"],
        "journeyId": journey_id,
        "noteId": note["id"],
        "secretId": secret["id"],
        "journeyFileId": journey["files"][0]["id"],
        "workflowFileId": file["id"],
    }


@pytest.fixture
def mint_openapi(sandbox: SandboxProcess) -> Any:
    return schemathesis.openapi.from_url(f"{sandbox.base_url}/openapi.json")


def real_path_parameters(path: str, resources: dict[str, str]) -> dict[str, str]:
    names = {"workflowId", "journeyId", "noteId", "secretId"}
    chosen = {name: resources[name] for name in names if f"{{{name}}}" in path}
    if "{fileId}" in path:
        chosen["fileId"] = resources["workflowFileId" if path.startswith("/workflows") else "journeyFileId"]
    return chosen


def test_the_document_is_served_without_a_token_and_describes_every_operation(sandbox):
    response = requests.get(f"{sandbox.base_url}/openapi.json", timeout=10)

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    documented = [operation["operationId"] for item in document["paths"].values() for operation in item.values()]
    assert sorted(documented) == sorted([*OPERATION_IDS, "getOpenApi"])


def test_the_document_answers_other_methods_with_a_405_problem(sandbox):
    response = requests.post(f"{sandbox.base_url}/openapi.json", json={}, timeout=10)

    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_the_operation_answers_as_documented(operation_id, mode, sandbox, mint_openapi, resources):
    operation = mint_openapi.find_operation_by_id(operation_id)
    strategy = operation.as_strategy(mode, path_parameters=real_path_parameters(operation.path, resources))
    headers = {"Authorization": f"Bearer {sandbox.token()}"}

    @given(case=strategy)
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()
