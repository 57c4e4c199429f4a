"""Reads: the API's listings and resources, shaped exactly as the reference's responses (nulls included)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import QueryDict

from sandbox.core.clock import isoformat
from sandbox.core.listing import (
    JOURNEY_DEFAULT_SORT,
    JOURNEY_SORT_FIELDS,
    JOURNEY_STATUSES,
    MAX_ID_FILTER_ITEMS,
    NOTE_DEFAULT_SORT,
    NOTE_SORT_FIELDS,
    VERSION_DEFAULT_SORT,
    VERSION_SORT_FIELDS,
    WORKFLOW_DEFAULT_SORT,
    WORKFLOW_SORT_FIELDS,
    WORKFLOW_VERSION_FILTERS,
    check_paging,
    envelope,
    page,
)
from sandbox.core.models import (
    Journey,
    JourneyFile,
    JourneyLogStep,
    JourneyState,
    JourneyWait,
    Note,
    OutboxMessage,
    Secret,
    Workflow,
    WorkflowFile,
    WorkflowVersion,
)
from sandbox.core.problems import not_found
from sandbox.core.steptypes import STEP_TYPES
from sandbox.core.validation import INT32_MAX, INT32_MIN, Checker

JOURNEY_LIST_FIELDS = (
    "id", "workflow_id", "version", "status", "name", "workflow_name", "created_at", "last_executed_at",
    "finished_at", "faulted_at", "cancelled_at", "pending_steps", "alerts",
)

# The journey detail carries these summary fields (not workflowName or pendingSteps), then its own.
JOURNEY_DETAIL_SUMMARY_FIELDS = ("id", "workflowId", "version", "status", "name", "createdAt", "lastExecutedAt",
                                 "finishedAt", "faultedAt", "cancelledAt")

# --- workflows ----------------------------------------------------------------------------------


def workflow_summary_to_wire(version: WorkflowVersion) -> dict[str, Any]:
    return {
        "id": version.workflow_id,
        "name": version.name,
        "description": version.description,
        "version": version.version,
        "isLatest": version.is_latest,
        "isPublished": version.is_published,
        "createdAt": isoformat(version.created_at),
    }


def workflow_to_wire(version: WorkflowVersion) -> dict[str, Any]:
    files = WorkflowFile.objects.filter(workflow_id=version.workflow_id).order_by("created_at", "id").only(
        "id", "filename", "content_type", "size")
    return {
        **workflow_summary_to_wire(version),
        "steps": version.steps,
        "connections": version.connections or [],
        "variables": version.variables,
        "tags": version.tags or [],
        "domain": None,
        "workflowUrl": None,
        "inputParameters": version.input_parameters or [],
        "files": [{"id": f.id, "filename": f.filename, "contentType": f.content_type, "size": f.size}
                  for f in files],
    }


def workflow_version_get(*, workflow_id: str, version: int | None = None) -> WorkflowVersion:
    """The workflow's ``version``, or its latest; 404 when either does not exist."""
    versions = WorkflowVersion.objects.filter(workflow_id=workflow_id)
    found = versions.filter(version=version).first() if version is not None else versions.filter(
        is_latest=True).first()
    if found is None:
        if version is not None and versions.exists():
            raise not_found(f"Version {version} of workflow {workflow_id!r}")
        raise not_found(f"Workflow {workflow_id!r}")
    return found


def workflow_get(*, workflow_id: str, query: QueryDict) -> dict[str, Any]:
    checker = Checker()
    version = checker.integer({"version": query.get("version")}, "version", low=INT32_MIN, high=INT32_MAX,
                              from_text=True)
    checker.raise_if_invalid()
    return workflow_to_wire(workflow_version_get(workflow_id=workflow_id, version=version))


def workflow_list(*, query: QueryDict) -> dict[str, Any]:
    checker = Checker()
    paging = check_paging(query, checker, sort_fields=WORKFLOW_SORT_FIELDS, default_sort=WORKFLOW_DEFAULT_SORT,
                          tie_field="workflow_id")
    version_filter = checker.choice({"version": query.get("version")}, "version", WORKFLOW_VERSION_FILTERS)
    ids = query.getlist("id")
    if len(ids) > MAX_ID_FILTER_ITEMS:
        checker.add("id", f"Must have at most {MAX_ID_FILTER_ITEMS} items.")
    checker.raise_if_invalid()
    versions = WorkflowVersion.objects.defer("steps", "connections", "variables", "input_parameters")
    if version_filter == "published":
        versions = versions.filter(is_current_published=True)
    else:
        versions = versions.filter(is_latest=True)
    if ids:
        versions = versions.filter(workflow_id__in=ids)
    if paging.search:
        versions = versions.filter(Q(name__icontains=paging.search) | Q(description__icontains=paging.search))
    rows, total = page(versions, paging)
    return envelope([workflow_summary_to_wire(v) for v in rows], paging, total)


def workflow_versions_list(*, workflow_id: str, query: QueryDict) -> dict[str, Any]:
    checker = Checker()
    paging = check_paging(query, checker, sort_fields=VERSION_SORT_FIELDS, default_sort=VERSION_DEFAULT_SORT,
                          sortable=False, searchable=False)
    checker.raise_if_invalid()
    if not Workflow.objects.filter(id=workflow_id).exists():
        raise not_found(f"Workflow {workflow_id!r}")
    versions = WorkflowVersion.objects.filter(workflow_id=workflow_id).only(
        "id", "workflow_id", "version", "is_latest", "is_published", "created_at")
    rows, total = page(versions, paging)
    data = [{"id": v.id, "workflowId": v.workflow_id, "version": v.version, "isLatest": v.is_latest,
             "isPublished": v.is_published, "createdAt": isoformat(v.created_at)} for v in rows]
    return envelope(data, paging, total)


def workflow_file_get(*, workflow_id: str, file_id: str) -> WorkflowFile:
    found = WorkflowFile.objects.filter(workflow_id=workflow_id, id=file_id).first()
    if found is None:
        raise not_found(f"File {file_id!r} of workflow {workflow_id!r}")
    return found


def step_types_list() -> list[dict[str, Any]]:
    return [step.to_wire() for step in STEP_TYPES.values()]


# --- journeys -----------------------------------------------------------------------------------


def journey_summary_to_wire(journey: Journey) -> dict[str, Any]:
    return {
        "id": journey.id,
        "workflowId": journey.workflow_id,
        "version": journey.version,
        "status": journey.status,
        "name": journey.name,
        "workflowName": journey.workflow_name,
        "createdAt": isoformat(journey.created_at),
        "lastExecutedAt": isoformat(journey.last_executed_at),
        "finishedAt": isoformat(journey.finished_at),
        "faultedAt": isoformat(journey.faulted_at),
        "cancelledAt": isoformat(journey.cancelled_at),
        "pendingSteps": journey.pending_steps,
        "alerts": journey.alerts,
    }


def journey_get_row(journey_id: str) -> Journey:
    found = Journey.objects.filter(id=journey_id).first()
    if found is None:
        raise not_found(f"Journey {journey_id!r}")
    return found


def journey_get(*, journey_id: str) -> dict[str, Any]:
    journey = journey_get_row(journey_id)
    state = JourneyState.objects.filter(journey=journey).first()
    waits = JourneyWait.objects.filter(journey=journey).order_by("id")
    files = JourneyFile.objects.filter(journey=journey).only("id", "step_id", "filename", "content_type", "size")
    summary = journey_summary_to_wire(journey)
    return {
        **{key: summary[key] for key in JOURNEY_DETAIL_SUMMARY_FIELDS},
        "stepData": state.step_data if state else {},
        "loops": state.loops if state else {},
        # Extension beyond Mint's API (README, "Extensions beyond Mint's API"): the input the journey started with,
        # so that a portal can filter on it for journeys it did not start itself.
        "input": (state.input or {}) if state else {},
        "activeSteps": [{"stepId": w.step_id, "stepType": w.step_type} for w in waits],
        "alerts": journey.alerts,
        "files": [{"stepId": f.step_id, "id": f.id, "filename": f.filename, "contentType": f.content_type,
                   "size": f.size} for f in files],
    }


def journey_list(*, query: QueryDict) -> dict[str, Any]:
    checker = Checker()
    paging = check_paging(query, checker, sort_fields=JOURNEY_SORT_FIELDS, default_sort=JOURNEY_DEFAULT_SORT)
    values = {key: query.get(key) for key in ("status", "workflowId", "lastExecutedAfter", "lastExecutedBefore")}
    status = checker.choice(values, "status", JOURNEY_STATUSES)
    after = checker.datetime_value(values, "lastExecutedAfter")
    before = checker.datetime_value(values, "lastExecutedBefore")
    checker.raise_if_invalid()
    journeys = Journey.objects.only(*JOURNEY_LIST_FIELDS)
    if status:
        journeys = journeys.filter(status=status)
    if values["workflowId"] is not None:
        journeys = journeys.filter(workflow_id=values["workflowId"])
    if after:
        journeys = journeys.filter(last_executed_at__gt=after)
    if before:
        journeys = journeys.filter(last_executed_at__lt=before)
    if paging.search:
        journeys = journeys.filter(Q(name__icontains=paging.search) | Q(id__icontains=paging.search)
                                   | Q(workflow_name__icontains=paging.search))
    rows, total = page(journeys, paging)
    return envelope([journey_summary_to_wire(j) for j in rows], paging, total)


def journey_log(*, journey_id: str) -> dict[str, Any]:
    journey = journey_get_row(journey_id)
    steps = list(JourneyLogStep.objects.filter(journey=journey).order_by("id"))
    return {
        "steps": [{"stepId": s.step_id, "stepType": s.step_type, "startedAt": isoformat(s.started_at),
                   "endedAt": isoformat(s.ended_at), "status": s.status, "events": s.events} for s in steps],
        "stepsFinished": sum(1 for s in steps if s.status.get("name") == "finished"),
        "stepsFaulted": sum(1 for s in steps if s.status.get("name") == "faulted"),
    }


def journey_file_get(*, journey_id: str, file_id: str) -> JourneyFile:
    journey_get_row(journey_id)
    found = JourneyFile.objects.filter(journey_id=journey_id, id=file_id).first()
    if found is None:
        raise not_found(f"File {file_id!r} of journey {journey_id!r}")
    return found


# --- notes, secrets, outbox ---------------------------------------------------------------------


def note_to_wire(note: Note) -> dict[str, Any]:
    return {"id": note.id, "stepId": note.step_id, "content": note.content, "createdAt": isoformat(note.created_at),
            "createdBy": note.created_by, "updatedAt": isoformat(note.updated_at)}


def note_list(*, journey_id: str, query: QueryDict) -> dict[str, Any]:
    checker = Checker()
    paging = check_paging(query, checker, sort_fields=NOTE_SORT_FIELDS, default_sort=NOTE_DEFAULT_SORT)
    values = {key: query.get(key) for key in ("createdAfter", "createdBefore")}
    after = checker.datetime_value(values, "createdAfter")
    before = checker.datetime_value(values, "createdBefore")
    checker.raise_if_invalid()
    journey_get_row(journey_id)
    notes = Note.objects.filter(journey_id=journey_id)
    if after:
        notes = notes.filter(created_at__gt=after)
    if before:
        notes = notes.filter(created_at__lt=before)
    if paging.search:
        notes = notes.filter(content__icontains=paging.search)
    rows, total = page(notes, paging)
    return envelope([note_to_wire(n) for n in rows], paging, total)


def secret_to_wire(secret: Secret) -> dict[str, Any]:
    """A secret as the API answers it: never with its value."""
    return {"id": secret.id, "name": secret.name, "description": secret.description,
            "createdAt": isoformat(secret.created_at), "updatedAt": isoformat(secret.updated_at)}


def outbox_list() -> list[dict[str, Any]]:
    return [{"id": m.id, "journeyId": m.journey_id, "stepId": m.step_id, "to": m.to, "subject": m.subject,
             "body": m.body, "createdAt": isoformat(m.created_at)}
            for m in OutboxMessage.objects.order_by("created_at", "id")]
