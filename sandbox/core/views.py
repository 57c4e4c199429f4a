"""The Mint API surface (/mint/...) and the OAuth token endpoint: thin views over services and selectors.

Each path is one :func:`route` of per-method :class:`Operation` s. The route answers 405 for other methods,
checks the bearer token and role, and turns an :class:`ApiError` into a problem response. Counting and fault
injection happen before, in ``OperationMiddleware``, keyed by the operation ids each route carries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.core import control, selectors, services
from sandbox.core.auth import FLOW_EDITOR, FLOW_VIEWER, Caller, OAuthError, authenticate, issue_token
from sandbox.core.problems import ApiError, not_found, problem_response
from sandbox.core.validation import parse_json_object

logger = logging.getLogger(__name__)

Handler = Callable[..., HttpResponse]


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


def file_response(content: bytes | memoryview, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type=content_type)
    safe_name = filename.replace('"', "").replace("\\", "").replace("\r", "").replace("\n", "")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


@dataclass(frozen=True)
class Operation:
    operation_id: str
    role: str
    handler: Handler


def route(**methods: Operation) -> Callable[..., HttpResponse]:
    """One path's view: dispatches by method to its operations (405 otherwise), authenticating each call."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        operation = methods.get(request.method or "")
        if operation is None:
            response = problem_response(request, ApiError(
                405, "method_not_allowed", f"{request.method} is not allowed on this path."))
            response["Allow"] = ", ".join(methods)
            return response
        try:
            caller = authenticate(request, operation.role)
            return operation.handler(request, caller, **kwargs)
        except ApiError as error:
            return problem_response(request, error)

    return control.serves(**{method: op.operation_id for method, op in methods.items()})(view)


# --- workflows ----------------------------------------------------------------------------------


def list_workflows(request: HttpRequest, caller: Caller) -> HttpResponse:
    return json_response(selectors.workflow_list(query=request.GET))


def create_workflow(request: HttpRequest, caller: Caller) -> HttpResponse:
    return json_response(services.workflow_create(body=parse_json_object(request)), 201)


def get_workflow(request: HttpRequest, caller: Caller, workflow_id: str) -> HttpResponse:
    return json_response(selectors.workflow_get(workflow_id=workflow_id, query=request.GET))


def update_workflow(request: HttpRequest, caller: Caller, workflow_id: str) -> HttpResponse:
    return json_response(services.workflow_update(workflow_id=workflow_id, body=parse_json_object(request)))


def list_workflow_versions(request: HttpRequest, caller: Caller, workflow_id: str) -> HttpResponse:
    return json_response(selectors.workflow_versions_list(workflow_id=workflow_id, query=request.GET))


def publish_workflow_version(request: HttpRequest, caller: Caller, workflow_id: str, version: str) -> HttpResponse:
    return json_response(services.workflow_publish(workflow_id=workflow_id, version=version))


def upload_workflow_file(request: HttpRequest, caller: Caller, workflow_id: str) -> HttpResponse:
    return json_response(services.workflow_file_upload(workflow_id=workflow_id, upload=request.FILES.get("file")),
                         201)


def download_workflow_file(request: HttpRequest, caller: Caller, workflow_id: str, file_id: str) -> HttpResponse:
    file = selectors.workflow_file_get(workflow_id=workflow_id, file_id=file_id)
    return file_response(file.content, file.content_type, file.filename)


def start_journey(request: HttpRequest, caller: Caller, workflow_id: str) -> HttpResponse:
    body = parse_json_object(request, allow_empty=True)
    return json_response(services.journey_start(workflow_id=workflow_id, body=body), 201)


def list_step_types(request: HttpRequest, caller: Caller) -> HttpResponse:
    return json_response(selectors.step_types_list())


# --- journeys -----------------------------------------------------------------------------------


def list_journeys(request: HttpRequest, caller: Caller) -> HttpResponse:
    return json_response(selectors.journey_list(query=request.GET))


def get_journey(request: HttpRequest, caller: Caller, journey_id: str) -> HttpResponse:
    return json_response(selectors.journey_get(journey_id=journey_id))


def resume_journey(request: HttpRequest, caller: Caller, journey_id: str) -> HttpResponse:
    services.journey_resume(journey_id=journey_id, body=parse_json_object(request))
    return no_content()


def approve_journey(request: HttpRequest, caller: Caller, journey_id: str) -> HttpResponse:
    services.journey_approve(journey_id=journey_id, body=parse_json_object(request))
    return no_content()


def create_journey_url(request: HttpRequest, caller: Caller, journey_id: str) -> HttpResponse:
    body = parse_json_object(request, allow_empty=True)
    return json_response(services.journey_url_create(journey_id=journey_id, body=body), 201)


def get_journey_log(request: HttpRequest, caller: Caller, journey_id: str) -> HttpResponse:
    return json_response(selectors.journey_log(journey_id=journey_id))


def create_journey_note(request: HttpRequest, caller: Caller, journey_id: str) -> HttpResponse:
    body = parse_json_object(request)
    return json_response(services.note_create(journey_id=journey_id, body=body, caller=caller), 201)


def list_journey_notes(request: HttpRequest, caller: Caller, journey_id: str) -> HttpResponse:
    return json_response(selectors.note_list(journey_id=journey_id, query=request.GET))


def update_journey_note(request: HttpRequest, caller: Caller, journey_id: str, note_id: str) -> HttpResponse:
    body = parse_json_object(request)
    return json_response(services.note_update(journey_id=journey_id, note_id=note_id, body=body))


def download_journey_file(request: HttpRequest, caller: Caller, journey_id: str, file_id: str) -> HttpResponse:
    file = selectors.journey_file_get(journey_id=journey_id, file_id=file_id)
    return file_response(file.content, file.content_type, file.filename)


# --- secrets ------------------------------------------------------------------------------------


def create_secret(request: HttpRequest, caller: Caller) -> HttpResponse:
    return json_response(services.secret_create(body=parse_json_object(request)), 201)


def update_secret(request: HttpRequest, caller: Caller, secret_id: str) -> HttpResponse:
    return json_response(services.secret_update(secret_id=secret_id, body=parse_json_object(request)))


# --- routes -------------------------------------------------------------------------------------

workflows = route(GET=Operation("listWorkflows", FLOW_VIEWER, list_workflows),
                  POST=Operation("createWorkflow", FLOW_EDITOR, create_workflow))
workflow = route(GET=Operation("getWorkflow", FLOW_VIEWER, get_workflow),
                 PUT=Operation("updateWorkflow", FLOW_EDITOR, update_workflow))
workflow_journeys = route(POST=Operation("startJourney", FLOW_EDITOR, start_journey))
workflow_versions = route(GET=Operation("listWorkflowVersions", FLOW_VIEWER, list_workflow_versions))
workflow_version_publish = route(POST=Operation("publishWorkflowVersion", FLOW_EDITOR, publish_workflow_version))
workflow_files = route(POST=Operation("uploadWorkflowFile", FLOW_EDITOR, upload_workflow_file))
workflow_file = route(GET=Operation("downloadWorkflowFile", FLOW_VIEWER, download_workflow_file))
journeys = route(GET=Operation("listJourneys", FLOW_VIEWER, list_journeys))
journey = route(GET=Operation("getJourney", FLOW_VIEWER, get_journey))
journey_resume = route(POST=Operation("resumeJourney", FLOW_EDITOR, resume_journey))
journey_approve = route(POST=Operation("approveJourney", FLOW_EDITOR, approve_journey))
journey_url = route(POST=Operation("createJourneyUrl", FLOW_EDITOR, create_journey_url))
journey_log = route(GET=Operation("getJourneyLog", FLOW_VIEWER, get_journey_log))
journey_notes = route(GET=Operation("listJourneyNotes", FLOW_VIEWER, list_journey_notes),
                      POST=Operation("createJourneyNote", FLOW_EDITOR, create_journey_note))
journey_note = route(PUT=Operation("updateJourneyNote", FLOW_EDITOR, update_journey_note))
journey_file = route(GET=Operation("downloadJourneyFile", FLOW_VIEWER, download_journey_file))
step_types = route(GET=Operation("listStepTypes", FLOW_VIEWER, list_step_types))
secrets = route(POST=Operation("createSecret", FLOW_EDITOR, create_secret))
secret = route(PATCH=Operation("updateSecret", FLOW_EDITOR, update_secret))


def token_endpoint_response(request: HttpRequest, issue: Callable[[], dict[str, Any]], *, realm: str) -> HttpResponse:
    """An OAuth 2.0 token endpoint's answer: POST only, ``issue()``'s token as JSON, an :class:`OAuthError` as
    ``{error, error_description}`` (a 401 with a Basic challenge for ``realm``), and never cached."""
    if request.method != "POST":
        response = json_response({"error": "invalid_request", "error_description": "Use POST."}, 405)
        response["Allow"] = "POST"
        return response
    try:
        response = json_response(issue())
    except OAuthError as error:
        response = json_response({"error": error.error, "error_description": error.description}, error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = f'Basic realm="{realm}"'
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@control.serves(POST="token")
@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """The OAuth 2.0 token endpoint (client credentials)."""

    def issue() -> dict[str, Any]:
        issued = issue_token(request)
        return {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
                "scope": "signicat-api"}

    return token_endpoint_response(request, issue, realm="mint")


def not_found_handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown paths answer a 404 problem, like unknown ids."""
    return problem_response(request, not_found(f"The path {request.path!r}"))


def server_error_handler(request: HttpRequest) -> HttpResponse:
    return problem_response(request, ApiError(500, "internal_error", "The sandbox failed; see its log."))
