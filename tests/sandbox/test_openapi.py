"""The sandbox's OpenAPI document stays true: schemathesis generates requests for every operation from the
document served by the live sandbox, in all its phases (the document's examples, coverage of each keyword's
boundaries, fuzzing, and stateful sequences that follow the document's links), and every answer must be
documented (status code, content type, body schema), never a server error; requests that break the document
must be rejected, and requests that keep it must be accepted unless a rule the document states in words (one
JSON Schema cannot express) refuses them.

Path ids point at real resources (a workflow with a file, a journey waiting at a suspend step with a note and
a generated file, a secret), so that success responses are validated and not only 404s. The run is bounded
(``MAX_EXAMPLES`` per operation and phase, a fixed seed, deterministic generation) so that CI is repeatable.
"""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
from schemathesis.engine import Status, StopReason, events, from_schema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.sandbox_process import SandboxProcess

SEED = 20261202
MAX_EXAMPLES = 25
STATEFUL_STEPS = 6

# The rules the document states in words (left: a phrase of the operation's description) and the reasons the
# server gives when one refuses a request (right: a pattern of invalidParams[].reason). A schema-valid request
# may be refused only by these.
DOCUMENTED_RULES = {
    "step ids are unique": r"Duplicate step id ",
    "`sourceStepId` and `targetStepId` name a step of this definition": r"No step has the id ",
    "a `fault` or `finish` step has none": r"A '[a-z-]+' step ends the journey and has no outcomes to connect\.",
    "is one of that step type's outcomes": r"A '[a-z-]+' step has no outcome ",
    "exactly one step is the start step": r"Exactly one step must be the start step ",
    "every key of `input` must be one of them": r"Not an input parameter of this workflow\.",
    "an unknown stepId is a 400 naming `stepId`": r"The journey's workflow has no step ",
}

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


def refused_only_by_documented_rules(response: schemathesis.Response) -> bool:
    if response.status_code != 400:
        return False
    reasons = [param["reason"] for param in response.json().get("invalidParams", [])]
    return bool(reasons) and all(any(re.match(rule, reason) for rule in DOCUMENTED_RULES.values())
                                 for reason in reasons)


@schemathesis.check
def schema_valid_requests_are_accepted(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                       case: schemathesis.Case) -> bool | None:
    """schemathesis's positive-data check, except for a 400 whose every reason is a rule the document states."""
    if refused_only_by_documented_rules(response):
        return None
    return positive_data_acceptance(ctx, response, case)


def path_with_real_ids(path: str, resources: dict[str, str]) -> str:
    file_id = resources["workflowFileId" if path.startswith("/workflows") else "journeyFileId"]
    return path.format(**resources, fileId=file_id, version=1)


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


@pytest.mark.parametrize("status", [429, 503])
def test_every_operation_documents_the_transient_refusals_it_can_answer(sandbox, resources, status):
    schema = schemathesis.openapi.from_url(f"{sandbox.base_url}/openapi.json")
    document = requests.get(f"{sandbox.base_url}/openapi.json", timeout=10).json()
    sandbox.add_fault(path=r"^/mint/", status=status, retry_after=2)

    for path, item in document["paths"].items():
        for method, operation in item.items():
            response = requests.request(method.upper(), sandbox.base_url + path_with_real_ids(path, resources),
                                        timeout=10)

            assert response.status_code == status
            assert str(status) in operation["responses"], operation["operationId"]
            schema.find_operation_by_id(operation["operationId"]).validate_response(response)


def test_the_document_states_every_rule_the_server_applies_beyond_the_schema(sandbox):
    document = requests.get(f"{sandbox.base_url}/openapi.json", timeout=10).json()
    descriptions = " ".join(operation["description"] for item in document["paths"].values()
                            for operation in item.values())

    missing = [phrase for phrase in DOCUMENTED_RULES if phrase not in descriptions]

    assert missing == []


def run_every_phase(sandbox: SandboxProcess, resources: dict[str, str]) -> tuple[set[str], list[str]]:
    """Runs schemathesis's phases once against the sandbox; answers the phases that ran and every failure found
    (a run that stopped before completing is one).

    The run is bounded by the number of examples, not by a time limit: given one, schemathesis repeats its
    fuzzing and stateful phases until the time is up."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        # No cache of earlier runs' findings: each run starts from the seed alone.
        "cache": {"enabled": False},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
        "checks": {"positive_data_acceptance": {"enabled": False}},
        "headers": {"Authorization": f"Bearer {sandbox.token()}"},
        "parameters": {f"path.{name}": resources[name] for name in ("workflowId", "journeyId", "noteId",
                                                                    "secretId")},
        "operations": [
            *({"include-operation-id": operation_id, "parameters": {"path.fileId": resources[file_id]}}
              for operation_id, file_id in [("downloadWorkflowFile", "workflowFileId"),
                                            ("downloadJourneyFile", "journeyFileId")]),
            # A multipart part is bytes on the wire: a "file" generated as a number or an object to break its
            # string schema arrives as a file with those bytes, as valid as any other file.
            {"include-operation-id": "uploadWorkflowFile", "checks": {"negative_data_rejection": {"enabled": False}}},
        ],
    })
    schema = schemathesis.openapi.from_url(f"{sandbox.base_url}/openapi.json", config=config)
    phases: set[str] = set()
    failures: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished) and event.status != Status.SKIP:
            phases.add(event.phase.name.value)
        elif isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                failures += [f"{event.phase.value} {event.recorder.label}: {check.name}: "
                             f"{check.failure_info.failure.title if check.failure_info else check.status}\n"
                             f"{check.failure_info.code_sample if check.failure_info else case_id}"
                             for check in checks if check.status in (Status.FAILURE, Status.ERROR)]
        elif isinstance(event, events.NonFatalError):
            failures.append(f"error in {event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            failures.append(f"fatal error: {event.exception!r}")
        elif isinstance(event, events.EngineFinished) and event.stop_reason != StopReason.COMPLETED:
            failures.append(f"the run stopped early: {event.stop_reason.value}")
    return phases, failures


def test_every_phase_of_schemathesis_finds_the_server_answering_as_documented(sandbox, resources):
    phases, failures = run_every_phase(sandbox, resources)

    assert failures == []
    assert {"examples", "coverage", "fuzzing", "stateful"} <= phases
