"""The OpenAPI 3.1 document of everything the sandbox serves under ``/mint``, served at ``GET /mint/openapi.json``.

It follows Signicat's Mint API reference field by field: lengths, ranges, item counts, enums, nullability and the
"integer or digit string" numbers. Response objects list every field as required (the sandbox always sends them,
nulls included) and allow no others, so that the property-based test in tests/sandbox/test_openapi.py catches any
drift between this document and the server. Request objects allow unknown fields because the API ignores them.

The document is plain Python data built by the small helpers below; ``document()`` builds it once per process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.core import views
from sandbox.core.listing import (
    JOURNEY_DEFAULT_SORT,
    JOURNEY_SORT_FIELDS,
    JOURNEY_STATUSES,
    NOTE_DEFAULT_SORT,
    NOTE_SORT_FIELDS,
    WORKFLOW_DEFAULT_SORT,
    WORKFLOW_SORT_FIELDS,
)
from sandbox.core.problems import ApiError, problem_response
from sandbox.core.steptypes import (
    ALERT_SEVERITIES,
    DOCUMENT_FORMATS,
    FORM_FIELD_TYPES,
    IF_ELSE_OPERATORS,
    MAX_DELAY_SECONDS,
    STEP_TYPES,
)
from sandbox.core.validation import INT32_MAX, INT32_MIN

Schema = dict[str, Any]

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
READ_ROLE = "Flow Viewer"
WRITE_ROLE = "Flow Editor"


# --- schema helpers ------------------------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or JSON null (OpenAPI 3.1 spells nullability as a union with the null type)."""
    return {"anyOf": [schema, {"type": "null"}]}


def string(*, min_length: int | None = None, max_length: int | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "string", **extra}
    if min_length is not None:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def timestamp() -> Schema:
    """A nullable ISO 8601 timestamp, as every ``…At`` field of the reference is."""
    return nullable(string(format="date-time"))


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Schema:
    schema: Schema = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _same_length_alternatives(low: str, high: str) -> list[str]:
    """Regex alternatives matching exactly the digit strings of ``len(low)`` between ``low`` and ``high``."""
    if not low:
        return [""]
    if low[0] == high[0]:
        return [low[0] + rest for rest in _same_length_alternatives(low[1:], high[1:])]
    width = len(low) - 1
    low_whole = low[1:] == "0" * width
    high_whole = high[1:] == "9" * width
    first = int(low[0]) if low_whole else int(low[0]) + 1
    last = int(high[0]) if high_whole else int(high[0]) - 1
    tail = f"[0-9]{{{width}}}" if width > 1 else "[0-9]" * width
    alternatives = [] if low_whole else [low[0] + rest for rest in _same_length_alternatives(low[1:], "9" * width)]
    if first <= last:
        alternatives.append((str(first) if first == last else f"[{first}-{last}]") + tail)
    if not high_whole:
        alternatives += [high[0] + rest for rest in _same_length_alternatives("0" * width, high[1:])]
    return alternatives


def _natural_alternatives(low: int, high: int) -> list[str]:
    """Regex alternatives matching exactly the decimal numbers ``low..high`` (0 <= low), without leading zeros."""
    if low > high:
        return []
    if len(str(low)) < len(str(high)):
        widest_of_low = 10 ** len(str(low)) - 1
        return _natural_alternatives(low, widest_of_low) + _natural_alternatives(widest_of_low + 1, high)
    return _same_length_alternatives(str(low), str(high))


def digits_pattern(minimum: int, maximum: int) -> str:
    """A pattern for the digit strings (Signicat's ``^-?(?:0|[1-9]\\d*)$``) whose value is in minimum..maximum.

    JSON Schema's minimum and maximum do not apply to strings, so the range is spelt out as digits: a client
    that generates strings from the pattern sends only numbers the server accepts. ``-0`` is zero, as the
    server reads it.
    """
    alternatives = _natural_alternatives(max(minimum, 0), maximum)
    if minimum < 0:
        alternatives += ["-" + alternative for alternative in _natural_alternatives(max(1, -maximum), -minimum)]
    if minimum <= 0 <= maximum:
        alternatives.append("-0")
    return "^(?:" + "|".join(alternatives) + ")$"


def int_or_digits(minimum: int, maximum: int) -> Schema:
    """Signicat's ``integer or string <int32> [min .. max] ^-?(?:0|[1-9]\\d*)$``.

    The integer branch states the range as minimum and maximum (a whole-number float such as ``903.0`` is an
    integer to JSON Schema, and to the server); the string branch states it as a pattern of digits.
    """
    return {
        "description": f"An integer from {minimum} to {maximum}, as a JSON number or a string of digits.",
        "anyOf": [
            integer(minimum=minimum, maximum=maximum) | {"format": "int32"},
            string(pattern=digits_pattern(minimum, maximum)),
        ],
    }


def array(items: Schema, *, max_items: int | None = None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def free_object() -> Schema:
    return {"type": "object"}


def response_object(properties: dict[str, Schema]) -> Schema:
    """An object the sandbox sends: every listed field is always present, and nothing else is."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def request_object(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object the sandbox accepts; fields it does not know are ignored, so they are allowed."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        schema["required"] = list(required)
    return schema


def page(item: str) -> Schema:
    """A listing: ``{data, offset, limit, totalCount}``."""
    return response_object(
        {"data": array(ref(item)), "offset": integer(minimum=0), "limit": integer(minimum=1),
         "totalCount": integer(minimum=0)}
    )


# --- parameters ------------------------------------------------------------------------------------------------


def path_param(name: str, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": string()}


def query_param(name: str, schema: Schema, description: str, **extra: Any) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


# In a URL every value is text: the integer branch of a number parameter may be written as a JSON number.
URL_NUMBER = " In the URL, a number may also be written as a JSON number with no fractional part (`10`, `10.0`)."


def paging_params() -> list[Schema]:
    return [
        query_param("offset", int_or_digits(0, INT32_MAX), "The offset of the first item to return." + URL_NUMBER),
        query_param("limit", int_or_digits(1, 100) | {"default": 10},
                    "The maximum number of items to return per page. Defaults to 10." + URL_NUMBER),
    ]


def sort_param(fields: dict[str, str], default: str) -> Schema:
    values = [variant for field in fields for variant in (field, f"-{field}")]
    return query_param(
        "sort",
        string(max_length=50, enum=values),
        f"Field to sort by, `-` prefix for descending. Supported fields: {', '.join(fields)}. "
        f"Defaults to `{default}`; ties are ordered by id.",
    )


def search_param(what: str) -> Schema:
    return query_param("search", string(max_length=100), f"Search term (case-insensitive) matched against {what}.")


def time_filter(name: str, description: str) -> Schema:
    return query_param(name, string(format="date-time"), description)


# --- responses -------------------------------------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid (by the schema, or by a rule the operation's description states): "
           "`invalidParams` names each bad field.",
    "401": "The bearer token is missing, invalid, expired or revoked.",
    "403": "The API client lacks the role this operation needs.",
    "404": "No such resource.",
    "405": "The path does not support this method.",
    "409": "The journey is not waiting at that step.",
    "413": "The request body is larger than the sandbox reads (20 MiB, uploaded files aside).",
    "429": "Too many requests: retry after the number of seconds in Retry-After.",
    "503": "The service is unavailable for a while: retry later (Retry-After, when present, says when).",
}
# Every operation can answer these: authentication and role, a method the path lacks, and the two transient
# refusals a client must expect from Mint (and that the sandbox's control API injects as faults).
COMMON_ERRORS = ("401", "403", "405", "429", "503")


def problem_ref(status: str) -> Schema:
    return {"$ref": f"#/components/responses/Problem{status}"}


def json_body(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def file_response() -> Schema:
    return {
        "description": "The file's bytes, with its content type and a Content-Disposition filename.",
        "content": {"*/*": {"schema": string(contentMediaType="application/octet-stream")}},
    }


def operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    ok: tuple[str, Schema],
    errors: tuple[str, ...],
    params: list[Schema] | None = None,
    body: Schema | None = None,
    body_required: bool = True,
    role: str = READ_ROLE,
    extension: bool = False,
    rules: str = "",
    links: dict[str, Schema] | None = None,
    example: Any = None,
) -> Schema:
    """One operation: its success response, its problem responses and the role it needs.

    :data:`COMMON_ERRORS` apply to every operation and are added here, and 413 to every operation with a body;
    ``errors`` lists the others. ``rules``
    states, in words, what the server checks beyond the schema; ``links`` are the OpenAPI links from the success
    response to the operations that can use its ids.
    """
    status, response = ok
    if links:
        response = response | {"links": links}
    description = f"Needs the *{role}* role." + (" A sandbox extension, not part of Mint's API." if extension
                                                 else "")
    op: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "description": description + (f"\n\n{rules}" if rules else ""),
        "parameters": params or [],
        "responses": {status: response} | {code: problem_ref(code) for code in sorted(
            {*errors, *COMMON_ERRORS, *(["413"] if body is not None else [])})},
    }
    if body is not None:
        media: Schema = {"schema": body}
        if example is not None:
            media["example"] = example
        op["requestBody"] = {"required": body_required, "content": {JSON: media}}
    return op


def link(operation_id: str, **parameters: str) -> Schema:
    """An OpenAPI link to ``operation_id`` filling its path parameters from runtime expressions."""
    return {"operationId": operation_id, "parameters": parameters}


# --- component schemas -----------------------------------------------------------------------------------------


def _step_texts() -> dict[str, Schema]:
    return {
        "name": nullable(string(max_length=255)),
        "displayName": nullable(string(max_length=255)),
        "description": nullable(string(max_length=5000)),
    }


def _workflow_step() -> Schema:
    """A step as the sandbox answers it."""
    return response_object(
        {"id": string(max_length=50), "type": string(enum=sorted(STEP_TYPES))}
        | _step_texts()
        | {"properties": nullable(free_object() | {"description": "The step type's settings."})}
    )


def _step_properties() -> dict[str, Schema | None]:
    """The ``properties`` each step type requires (an object), allows (nullable) or ignores (None), as
    ``steptypes.check_properties`` checks them."""
    form_field = request_object(
        {"name": string(min_length=1, max_length=100)},
        {"label": nullable(string(max_length=200)), "type": nullable(string(enum=list(FORM_FIELD_TYPES))),
         "required": nullable({"type": "boolean"})},
    )
    return {
        "form": nullable(request_object({}, {"fields": nullable(array(form_field, max_items=100))})),
        "set-name": request_object({"template": string(max_length=500)}),
        "if-else": request_object(
            {"left": string(max_length=500), "operator": string(enum=list(IF_ELSE_OPERATORS))},
            {"right": {"type": ["string", "number", "boolean", "null"]}},
        ),
        "for-each": request_object({"items": string(max_length=500)}),
        "trigger-alert": request_object(
            {"message": string(max_length=1000)}, {"severity": nullable(string(enum=list(ALERT_SEVERITIES)))}
        ),
        "waiting": request_object({"delay": int_or_digits(0, MAX_DELAY_SECONDS)}),
        "generate-document": request_object(
            {"filename": string(min_length=1, max_length=255)},
            {"format": nullable(string(enum=list(DOCUMENT_FORMATS))),
             "content": nullable(string(max_length=100_000))},
        ),
        "send-email": request_object(
            {"to": string(min_length=1, max_length=500)},
            {"subject": nullable(string(max_length=1000)), "body": nullable(string(max_length=100_000))},
        ),
        "fault": nullable(request_object({}, {"message": nullable(string(max_length=1000))})),
    }


def _workflow_step_input() -> Schema:
    """A step the sandbox accepts: one variant per step type, each stating the ``properties`` that type needs."""
    checked = _step_properties()
    variants = []
    for step_type in sorted(STEP_TYPES):
        properties = checked.get(step_type)
        required: dict[str, Schema] = {"id": string(max_length=50), "type": {"const": step_type}}
        optional = _step_texts()
        if properties is None:
            optional["properties"] = nullable(free_object())
        elif {"type": "null"} in properties.get("anyOf", []):
            optional["properties"] = properties
        else:
            required["properties"] = properties
        variants.append(request_object(required, optional) | {"title": step_type})
    return {
        "description": "A step: `type` is one of GET /step-types, and `properties` holds that type's settings. "
                       "Step ids are unique within the workflow.",
        "anyOf": variants,
    }


def _connection(*, request: bool) -> Schema:
    """A connection. Mint's reference marks both ends nullable; the sandbox requires them on input."""
    ends = {"sourceStepId": string(max_length=50), "targetStepId": string(max_length=50)}
    outcome = {"outcome": nullable(string(max_length=100))}
    if request:
        return request_object(ends, outcome)
    return response_object({name: nullable(schema) for name, schema in ends.items()} | outcome)


def _workflow_summary_fields() -> dict[str, Schema]:
    return {
        "id": string(),
        "name": nullable(string(max_length=255)),
        "description": nullable(string(max_length=5000)),
        "version": integer(minimum=1),
        "isLatest": {"type": "boolean"},
        "isPublished": {"type": "boolean"},
        "createdAt": timestamp(),
    }


def _alert() -> Schema:
    return response_object(
        {"stepId": string(), "severity": string(enum=list(ALERT_SEVERITIES)), "message": string(),
         "timestamp": timestamp()}
    )


def _journey_fields(*, listing: bool) -> dict[str, Schema]:
    """The fields a journey shares in the listing and in retrieval; only the listing has ``workflowName``."""
    return {
        "id": string(),
        "workflowId": string(),
        "version": integer(minimum=1),
        "status": string(enum=list(JOURNEY_STATUSES)),
        "name": nullable(string()),
        **({"workflowName": nullable(string())} if listing else {}),
        "createdAt": timestamp(),
        "lastExecutedAt": timestamp(),
        "finishedAt": timestamp(),
        "faultedAt": timestamp(),
        "cancelledAt": timestamp(),
    }


def _note_fields() -> dict[str, Schema]:
    return {
        "id": string(),
        "stepId": nullable(string(max_length=50)),
        "content": string(max_length=1000),
        "createdAt": timestamp(),
        "createdBy": string(),
        "updatedAt": timestamp(),
    }


def _secret() -> Schema:
    return response_object(
        {"id": string(), "name": string(min_length=1, max_length=50),
         "description": nullable(string(max_length=100)), "createdAt": timestamp(), "updatedAt": timestamp()}
    )


def _problem() -> Schema:
    return {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": string(),
            "title": string(),
            "status": integer(minimum=400, maximum=599),
            "detail": nullable(string()),
            "code": nullable(string()),
            "traceId": string(),
            "invalidParams": array(response_object({"name": string(), "reason": string()})),
        },
        "required": ["type", "title", "status", "traceId"],
    }


def _workflow_request() -> Schema:
    return request_object(
        {"name": string(min_length=0, max_length=255),
         "steps": array(ref("WorkflowStepInput"), max_items=250) | {"minItems": 1}},
        {
            "description": nullable(string(min_length=0, max_length=5000)),
            "connections": nullable(array(ref("WorkflowStepConnectionInput"))),
            "variables": nullable(free_object()),
            "tags": nullable(array(string())),
            "inputParameters": nullable(array(request_object({"name": string(min_length=1, max_length=100)}))),
        },
    )


def _workflow_file_fields() -> dict[str, Schema]:
    return {"id": string(), "filename": string(), "contentType": string(), "size": nullable(integer())}


def _workflow_schemas() -> dict[str, Schema]:
    """Workflows: steps, connections, files, the summary and full workflow, the request and the version."""
    return {
        "WorkflowStep": _workflow_step(),
        "WorkflowStepInput": _workflow_step_input(),
        "WorkflowStepConnection": _connection(request=False),
        "WorkflowStepConnectionInput": _connection(request=True),
        "WorkflowFile": response_object(_workflow_file_fields()),
        "WorkflowSummary": response_object(_workflow_summary_fields()),
        "Workflow": response_object(
            _workflow_summary_fields()
            | {
                "steps": array(ref("WorkflowStep")),
                "connections": array(ref("WorkflowStepConnection")),
                "variables": nullable(free_object()),
                "tags": array(string()),
                "domain": nullable(string()),
                "workflowUrl": nullable(string()),
                "inputParameters": array(response_object({"name": string()})),
                "files": array(ref("WorkflowFile")),
            }
        ),
        "WorkflowRequest": _workflow_request(),
        "WorkflowVersion": response_object(
            {"id": string(), "workflowId": string(), "version": integer(minimum=1), "isLatest": {"type": "boolean"},
             "isPublished": {"type": "boolean"}, "createdAt": timestamp()}
        ),
    }


def _journey_log() -> Schema:
    return response_object(
        {
            "steps": array(response_object({
                "stepId": string(),
                "stepType": string(),
                "startedAt": timestamp(),
                "endedAt": timestamp(),
                "status": {"type": "object", "properties": {"name": string(), "outcome": nullable(string())}},
                "events": array(response_object({
                    "id": string(), "timestamp": timestamp(), "eventName": nullable(string()),
                    "message": nullable(string()), "outcomes": nullable(array(string())),
                })),
            })),
            "stepsFinished": integer(minimum=0),
            "stepsFaulted": integer(minimum=0),
        }
    )


def _journey_schemas() -> dict[str, Schema]:
    """Journeys: starting one, the summary and full journey, the decisions on a waiting step, its URL and log."""
    return {
        "StartJourneyRequest": request_object(
            {}, {"input": nullable(free_object()), "journeyUrlTtl": nullable(int_or_digits(1, 604800))}
        ),
        "StartJourneyResponse": response_object(
            {"journeyId": string(), "stepId": nullable(string()), "journeyUrl": string()}
        ),
        "Alert": _alert(),
        "JourneySummary": response_object(
            _journey_fields(listing=True) | {"pendingSteps": {"type": "boolean"}, "alerts": array(ref("Alert"))}
        ),
        "Journey": response_object(
            _journey_fields(listing=False)
            | {
                "stepData": free_object(),
                "input": free_object(),
                "loops": {"type": "object", "additionalProperties": array(
                    response_object({"index": integer(minimum=0), "stepData": free_object()})
                )},
                "activeSteps": array(response_object({"stepId": string(), "stepType": string()})),
                "alerts": array(ref("Alert")),
                "files": array(response_object({"stepId": nullable(string())} | _workflow_file_fields())),
            }
        ),
        "ResumeJourneyRequest": request_object(
            {"stepId": string(min_length=0, max_length=50)}, {"input": nullable(free_object())}
        ),
        "ApproveJourneyRequest": request_object(
            {
                "input": request_object({"approved": {"type": "boolean"}}, {"message": nullable(string())}),
                "stepId": string(max_length=50),
            }
        ),
        "JourneyUrlRequest": request_object({}, {"timeToLive": nullable(int_or_digits(0, 2592000) | {"default": 60})}),
        "JourneyUrl": response_object({"journeyUrl": string()}),
        "JourneyLog": _journey_log(),
    }


def _note_schemas() -> dict[str, Schema]:
    return {
        "NoteCreateRequest": request_object(
            {"content": string(min_length=0, max_length=1000)}, {"stepId": nullable(string(max_length=50))}
        ),
        "NoteUpdateRequest": request_object({"content": string(min_length=0, max_length=1000)}),
        "Note": response_object(_note_fields()),
    }


def _step_type() -> Schema:
    return response_object(
        {"type": string(), "displayName": string(), "description": nullable(string()), "category": string(),
         "outcomes": array(string()), "requiredPermissions": array(string()), "deprecated": {"type": "boolean"},
         "interactive": {"type": "boolean"}}
    )


def _secret_schemas() -> dict[str, Schema]:
    return {
        "SecretCreateRequest": request_object(
            {"name": string(min_length=1, max_length=50), "value": string(min_length=0, max_length=4000)},
            {"description": nullable(string(min_length=0, max_length=100))},
        ),
        "SecretUpdateRequest": request_object(
            {},
            {"name": nullable(string(min_length=1, max_length=50)),
             "description": nullable(string(min_length=0, max_length=100)),
             "value": nullable(string(min_length=0, max_length=4000))},
        ),
        "Secret": _secret(),
    }


def _schemas() -> dict[str, Schema]:
    """Every component schema, in the document's order: by resource."""
    return (
        {"Problem": _problem()}
        | _workflow_schemas()
        | _journey_schemas()
        | _note_schemas()
        | {"StepType": _step_type()}
        | _secret_schemas()
    )


# --- paths -----------------------------------------------------------------------------------------------------

WORKFLOW_ID = path_param("workflowId", "The workflow ID.")
JOURNEY_ID = path_param("journeyId", "The journey ID.")

# The rules the server enforces beyond the schema (JSON Schema cannot relate one field to another, or to stored
# data). Each breach is a 400 whose invalidParams names the field; tests/sandbox/test_openapi.py holds the server
# to exactly these.
DEFINITION_RULES = (
    "Rules beyond the schema, each a 400 naming the field: step ids are unique; every connection's "
    "`sourceStepId` and `targetStepId` name a step of this definition; a connection's source step has outcomes "
    "(a `fault` or `finish` step has none) and its `outcome`, when given, is one of that step type's outcomes "
    "(GET /step-types); exactly one step is the start step (the one step no connection targets)."
)
START_RULES = (
    "Rules beyond the schema: when the version declares `inputParameters`, every key of `input` must be one of "
    "them (another key is a 400 naming `input.<key>`). The journey starts from the latest published version, "
    "else the latest."
)
WAIT_RULES = (
    "Rules beyond the schema: `stepId` must be a step of the journey's workflow version (an unknown stepId is a "
    "400 naming `stepId`, not a 404); a step that is not waiting for this kind of decision is a 409."
)
WORKFLOW_EXAMPLE = {
    "name": "Customer onboarding",
    "steps": [
        {"id": "document", "type": "generate-document",
         "properties": {"filename": "terms.txt", "format": "text", "content": "Terms"}},
        {"id": "check", "type": "suspend"},
        {"id": "done", "type": "finish"},
    ],
    "connections": [
        {"sourceStepId": "document", "targetStepId": "check"},
        {"sourceStepId": "check", "targetStepId": "done"},
    ],
}
WORKFLOW_LINKS = {
    "GetWorkflow": link("getWorkflow", workflowId="$response.body#/id"),
    "GetWorkflowVersion": link("getWorkflow", workflowId="$response.body#/id", version="$response.body#/version"),
    "UpdateWorkflow": link("updateWorkflow", workflowId="$response.body#/id"),
    "PublishWorkflowVersion": link("publishWorkflowVersion", workflowId="$response.body#/id",
                                   version="$response.body#/version"),
    "ListWorkflowVersions": link("listWorkflowVersions", workflowId="$response.body#/id"),
    "StartJourney": link("startJourney", workflowId="$response.body#/id"),
    "UploadWorkflowFile": link("uploadWorkflowFile", workflowId="$response.body#/id"),
}
JOURNEY_LINKS = {
    name: link(operation_id, journeyId="$response.body#/journeyId")
    for name, operation_id in [("GetJourney", "getJourney"), ("GetJourneyLog", "getJourneyLog"),
                               ("CreateJourneyUrl", "createJourneyUrl"), ("CreateJourneyNote", "createJourneyNote"),
                               ("ListJourneyNotes", "listJourneyNotes"), ("ResumeJourney", "resumeJourney"),
                               ("ApproveJourney", "approveJourney")]
}


def file_download(operation_id: str, summary: str, owner: Schema, tag: str) -> Schema:
    """A file download extension: the file's bytes under its owner (a workflow or a journey)."""
    return operation(
        operation_id, summary, tag=tag, extension=True, params=[owner, path_param("fileId", "The file ID.")],
        ok=("200", file_response()), errors=("404",),
    )


def _workflow_paths() -> dict[str, Schema]:
    """Workflows and their versions; starting a journey and the file extensions sit under a workflow's path."""
    return {
        "/workflows": {
            "get": operation(
                "listWorkflows", "Returns a list of your workflows.", tag="Workflows",
                params=[
                    sort_param(WORKFLOW_SORT_FIELDS, WORKFLOW_DEFAULT_SORT),
                    search_param("the workflow name and description"),
                    query_param("version", string(enum=["latest", "published"]) | {"default": "latest"},
                                "Each workflow's latest version, or its latest published one. Defaults to latest."),
                    query_param("id", array(string(), max_items=100), "Filter workflows by a list of IDs.",
                                style="form", explode=True),
                    *paging_params(),
                ],
                ok=("200", json_body("A page of workflows.", page("WorkflowSummary"))),
                errors=("400",),
            ),
            "post": operation(
                "createWorkflow", "Creates a new workflow (version 1).", tag="Workflows", role=WRITE_ROLE,
                body=ref("WorkflowRequest"), example=WORKFLOW_EXAMPLE, rules=DEFINITION_RULES,
                ok=("201", json_body("The created workflow.", ref("Workflow"))), links=WORKFLOW_LINKS,
                errors=("400",),
            ),
        },
        "/workflows/{workflowId}": {
            "get": operation(
                "getWorkflow", "Retrieves a workflow.", tag="Workflows",
                params=[WORKFLOW_ID, query_param("version", int_or_digits(INT32_MIN, INT32_MAX),
                                                 "The version number; the latest version when not given. Any "
                                                 "int32 is accepted: a version the workflow lacks is a 404."
                                                 + URL_NUMBER)],
                ok=("200", json_body("The workflow at that version.", ref("Workflow"))),
                errors=("400", "404"),
            ),
            "put": operation(
                "updateWorkflow", "Updates a workflow, creating its next version.", tag="Workflows",
                role=WRITE_ROLE, params=[WORKFLOW_ID], body=ref("WorkflowRequest"), example=WORKFLOW_EXAMPLE,
                rules=DEFINITION_RULES, links=WORKFLOW_LINKS,
                ok=("200", json_body("The new version.", ref("Workflow"))),
                errors=("400", "404"),
            ),
        },
        "/workflows/{workflowId}/journeys": {"post": _start_journey()},
        "/workflows/{workflowId}/versions": {
            "get": operation(
                "listWorkflowVersions", "Returns a list of versions for a workflow.", tag="Workflows",
                params=[WORKFLOW_ID, *paging_params()],
                ok=("200", json_body("A page of versions, newest first.", page("WorkflowVersion"))),
                errors=("400", "404"),
            ),
        },
        "/workflows/{workflowId}/versions/{version}/publish": {
            "post": operation(
                "publishWorkflowVersion", "Publishes a workflow version.", tag="Workflows", role=WRITE_ROLE,
                extension=True,
                params=[WORKFLOW_ID, {"name": "version", "in": "path", "required": True,
                                      "description": "The version number." + URL_NUMBER,
                                      "schema": int_or_digits(1, INT32_MAX)}],
                ok=("200", json_body("The published version.", ref("Workflow"))),
                errors=("400", "404"),
            ),
        },
    } | _workflow_file_paths()


def _workflow_file_paths() -> dict[str, Schema]:
    """The sandbox's file extensions on a workflow: a multipart upload and the download."""
    upload = operation(
        "uploadWorkflowFile", "Uploads a file to the workflow's latest version.", tag="Workflows",
        role=WRITE_ROLE, extension=True, params=[WORKFLOW_ID],
        rules="The body is multipart/form-data with a boundary; its `file` part is at most 10 MiB. A body "
              "that is not readable multipart, or lacks the part, is a 400.",
        links={"DownloadWorkflowFile": link("downloadWorkflowFile", workflowId="$request.path.workflowId",
                                            fileId="$response.body#/id")},
        ok=("201", json_body("The stored file.", ref("WorkflowFile"))),
        errors=("400", "404", "413"),
    )
    multipart = {"multipart/form-data": {"schema": request_object(
        {"file": string(contentMediaType="application/octet-stream")}
    )}}
    return {
        "/workflows/{workflowId}/files": {"post": upload | {"requestBody": {"required": True, "content": multipart}}},
        "/workflows/{workflowId}/files/{fileId}": {
            "get": file_download("downloadWorkflowFile", "Downloads a workflow file.", WORKFLOW_ID, "Workflows"),
        },
    }


def _start_journey() -> Schema:
    return operation(
        "startJourney", "Starts a new journey from the workflow's latest published version.",
        tag="Journeys", role=WRITE_ROLE, params=[WORKFLOW_ID], body=ref("StartJourneyRequest"),
        body_required=False, rules=START_RULES, links=JOURNEY_LINKS,
        ok=("201", json_body("The started journey and its URL.", ref("StartJourneyResponse"))),
        errors=("400", "404"),
    )


def _journey_paths() -> dict[str, Schema]:
    """Journeys: the listing, one journey, the decisions on its waiting steps, its URL and log; then its notes
    and files, which live under its path."""
    journey_filters = [
        query_param("status", string(enum=list(JOURNEY_STATUSES)), "Filter journeys by status."),
        query_param("workflowId", string(), "Filter journeys by workflow ID."),
        time_filter("lastExecutedAfter", "Journeys last executed after this time."),
        time_filter("lastExecutedBefore", "Journeys last executed before this time."),
    ]
    return {
        "/journeys": {
            "get": operation(
                "listJourneys", "Returns a list of your journeys.", tag="Journeys",
                params=[
                    sort_param(JOURNEY_SORT_FIELDS, JOURNEY_DEFAULT_SORT),
                    *journey_filters,
                    search_param("the journey name, id and workflow name"),
                    *paging_params(),
                ],
                ok=("200", json_body("A page of journeys.", page("JourneySummary"))),
                errors=("400",),
            ),
        },
        "/journeys/{journeyId}": {
            "get": operation(
                "getJourney", "Retrieves a journey.", tag="Journeys", params=[JOURNEY_ID],
                ok=("200", json_body("The journey.", ref("Journey"))), errors=("404",),
            ),
        },
        "/journeys/{journeyId}/resume": {
            "post": operation(
                "resumeJourney", "Resumes an active journey from a step requiring manual continuation.",
                tag="Journeys", role=WRITE_ROLE, params=[JOURNEY_ID], body=ref("ResumeJourneyRequest"),
                rules=WAIT_RULES + " Resume continues `suspend` steps and end-user steps (`form`, `eid-login`); "
                                   "`require-approval` steps are decided through /approve.",
                ok=("204", {"description": "Resumed."}), errors=("400", "404", "409"),
            ),
        },
        "/journeys/{journeyId}/approve": {
            "post": operation(
                "approveJourney", "Approves or rejects a journey pending approval.", tag="Journeys",
                role=WRITE_ROLE, params=[JOURNEY_ID], body=ref("ApproveJourneyRequest"),
                rules=WAIT_RULES + " Only a waiting `require-approval` step can be decided.",
                ok=("204", {"description": "Decided."}), errors=("400", "404", "409"),
            ),
        },
        "/journeys/{journeyId}/url": {
            "post": operation(
                "createJourneyUrl", "Creates a time-limited URL that provides access to a journey.",
                tag="Journeys", role=WRITE_ROLE, params=[JOURNEY_ID], body=ref("JourneyUrlRequest"),
                body_required=False,
                ok=("201", json_body("The journey URL.", ref("JourneyUrl"))), errors=("400", "404"),
            ),
        },
        "/journeys/{journeyId}/log": {
            "get": operation(
                "getJourneyLog", "Retrieves the execution log for a journey.", tag="Journeys", params=[JOURNEY_ID],
                ok=("200", json_body("The execution log.", ref("JourneyLog"))), errors=("404",),
            ),
        },
    } | _note_paths() | {
        "/journeys/{journeyId}/files/{fileId}": {
            "get": file_download("downloadJourneyFile", "Downloads a journey file.", JOURNEY_ID, "Journeys"),
        },
    }


def _note_paths() -> dict[str, Schema]:
    note_filters = [
        time_filter("createdAfter", "Notes created after this time."),
        time_filter("createdBefore", "Notes created before this time."),
    ]
    return {
        "/journeys/{journeyId}/notes": {
            "post": operation(
                "createJourneyNote", "Create journey note.", tag="Notes", role=WRITE_ROLE, params=[JOURNEY_ID],
                body=ref("NoteCreateRequest"),
                links={"UpdateJourneyNote": link("updateJourneyNote", journeyId="$request.path.journeyId",
                                                 noteId="$response.body#/id")},
                ok=("201", json_body("The created note.", ref("Note"))), errors=("400", "404"),
            ),
            "get": operation(
                "listJourneyNotes", "Returns a list of your journey notes.", tag="Notes",
                params=[
                    JOURNEY_ID,
                    sort_param(NOTE_SORT_FIELDS, NOTE_DEFAULT_SORT),
                    *note_filters,
                    search_param("the note content"),
                    *paging_params(),
                ],
                ok=("200", json_body("A page of notes.", page("Note"))), errors=("400", "404"),
            ),
        },
        "/journeys/{journeyId}/notes/{noteId}": {
            "put": operation(
                "updateJourneyNote", "Update journey note content.", tag="Notes", role=WRITE_ROLE,
                params=[JOURNEY_ID, path_param("noteId", "The note ID.")], body=ref("NoteUpdateRequest"),
                ok=("200", json_body("The updated note.", ref("Note"))), errors=("400", "404"),
            ),
        },
    }


def _step_type_paths() -> dict[str, Schema]:
    return {
        "/step-types": {
            "get": operation(
                "listStepTypes", "Returns the step types workflows can use.", tag="Workflows",
                ok=("200", json_body("Every step type.", array(ref("StepType")))), errors=(),
            ),
        },
    }


def _secret_paths() -> dict[str, Schema]:
    return {
        "/secrets": {
            "post": operation(
                "createSecret", "Creates a new workflow secret.", tag="Secrets", role=WRITE_ROLE,
                body=ref("SecretCreateRequest"),
                links={"UpdateSecret": link("updateSecret", secretId="$response.body#/id")},
                ok=("201", json_body("The secret, without its value.", ref("Secret"))), errors=("400",),
            ),
        },
        "/secrets/{secretId}": {
            "patch": operation(
                "updateSecret", "Updates the workflow secret.", tag="Secrets", role=WRITE_ROLE,
                params=[path_param("secretId", "The workflow secret ID.")], body=ref("SecretUpdateRequest"),
                ok=("200", json_body("The secret, without its value.", ref("Secret"))), errors=("400", "404"),
            ),
        },
    }


def _document_paths() -> dict[str, Schema]:
    """This document itself: the one operation that needs no token."""
    return {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "tags": ["Sandbox"],
                "description": "A sandbox extension; needs no token.",
                "security": [],
                "responses": {"200": json_body("The OpenAPI 3.1 document.", free_object())}
                | {code: problem_ref(code) for code in ("405", "429", "503")},
            },
        },
    }


def _paths() -> dict[str, Schema]:
    """Every path, in the document's order: one group per resource."""
    return _workflow_paths() | _journey_paths() | _step_type_paths() | _secret_paths() | _document_paths()


@cache
def document() -> Schema:
    """The whole OpenAPI document (built once; it depends on nothing that changes while the sandbox runs)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mint API (sandbox)",
            "version": "1.0.0",
            "description": "Signicat's Mint API as served by the Mint Portal sandbox, with the sandbox's "
                           "extensions marked in each operation's description.",
        },
        "servers": [{"url": "/mint"}],
        "security": [{"oauth2": ["signicat-api"]}, {"bearer": []}],
        "tags": [{"name": name} for name in ("Workflows", "Journeys", "Notes", "Secrets", "Sandbox")],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": {
                f"Problem{status}": {
                    "description": description,
                    "content": {PROBLEM_JSON: {"schema": ref("Problem")}},
                }
                for status, description in ERROR_DESCRIPTIONS.items()
            },
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "Client credentials (form fields or HTTP Basic), scope `signicat-api`.",
                    "flows": {"clientCredentials": {
                        "tokenUrl": "/auth/open/connect/token",
                        "scopes": {"signicat-api": "Access to Signicat's APIs."},
                    }},
                },
                "bearer": {"type": "http", "scheme": "bearer", "description": "An access token from the token URL."},
            },
        },
    }


@csrf_exempt
def openapi_json(request: HttpRequest) -> HttpResponse:
    """``GET /mint/openapi.json``: the document, without authentication; other methods get a 405 problem."""
    if request.method not in {"GET", "HEAD"}:
        response = problem_response(request, ApiError(405, "method_not_allowed",
                                                      f"{request.method} is not allowed on this path."))
        response["Allow"] = "GET, HEAD"
        return response
    return views.json_response(document())
