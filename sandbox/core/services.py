"""Writes: workflows, journeys, notes, secrets, journey URLs, and the scheduler's due work.

Each service validates its whole input before it writes and runs in one transaction, so a rejected request
leaves nothing behind. Workflow create/update publish ``mint-api:create_event`` / ``mint-api:save_event``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q

from sandbox.core import clock, control, engine
from sandbox.core.auth import Caller
from sandbox.core.definitions import WorkflowDefinition, parse_definition
from sandbox.core.models import (
    Journey,
    JourneyState,
    JourneyStatus,
    JourneyWait,
    Note,
    Secret,
    WaitKind,
    Workflow,
    WorkflowFile,
    WorkflowVersion,
)
from sandbox.core.problems import InvalidParam, not_found, validation_error
from sandbox.core.selectors import journey_get_row, note_to_wire, secret_to_wire, workflow_to_wire
from sandbox.core.validation import INT32_MAX, Checker, required
from sandbox.events.services import deliver_due, publish_event

logger = logging.getLogger(__name__)

JOURNEY_URL_SALT = "sandbox.journey-url"
DEFAULT_URL_TTL = 60
MAX_START_URL_TTL = 604800
MAX_URL_TTL = 2592000
MAX_STEP_ID_LENGTH = 50
MAX_NOTE_LENGTH = 1000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

# --- workflows ----------------------------------------------------------------------------------


def _version_fields(definition: WorkflowDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": definition.description,
        "steps": definition.steps,
        "connections": definition.connections,
        "variables": definition.variables,
        "tags": definition.tags,
        "input_parameters": definition.input_parameters,
    }


def _workflow_event(event_name: str, version: WorkflowVersion) -> None:
    publish_event(event_name, {"workflowId": version.workflow_id, "version": version.version, "name": version.name})


def workflow_create(*, body: dict[str, Any]) -> dict[str, Any]:
    """Creates a workflow whose version 1 (unpublished) is ``body``; publishes ``mint-api:create_event``."""
    definition = parse_definition(body)
    now = clock.now()
    with transaction.atomic():
        workflow = Workflow.objects.create(latest_version=1, created_at=now)
        version = WorkflowVersion.objects.create(workflow=workflow, version=1, created_at=now,
                                                 **_version_fields(definition))
        _workflow_event("mint-api:create_event", version)
    return workflow_to_wire(version)


def workflow_update(*, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Saves ``body`` as the workflow's next version, keeping the older ones; publishes ``mint-api:save_event``."""
    definition = parse_definition(body)
    with transaction.atomic():
        workflow = Workflow.objects.filter(id=workflow_id).first()
        if workflow is None:
            raise not_found(f"Workflow {workflow_id!r}")
        number = workflow.latest_version + 1
        WorkflowVersion.objects.filter(workflow=workflow, is_latest=True).update(is_latest=False)
        version = WorkflowVersion.objects.create(workflow=workflow, version=number, created_at=clock.now(),
                                                 **_version_fields(definition))
        Workflow.objects.filter(pk=workflow.pk).update(latest_version=number)
        _workflow_event("mint-api:save_event", version)
    return workflow_to_wire(version)


def workflow_publish(*, workflow_id: str, version: str) -> dict[str, Any]:
    """Marks a version published; the highest published version is the one new journeys start from."""
    checker = Checker()
    number = checker.integer({"version": version}, "version", low=1, high=INT32_MAX, from_text=True)
    checker.raise_if_invalid()
    number = required(number)
    with transaction.atomic():
        target = WorkflowVersion.objects.filter(workflow_id=workflow_id, version=number).first()
        if target is None:
            if Workflow.objects.filter(id=workflow_id).exists():
                raise not_found(f"Version {number} of workflow {workflow_id!r}")
            raise not_found(f"Workflow {workflow_id!r}")
        WorkflowVersion.objects.filter(pk=target.pk).update(is_published=True)
        # The target is published now, so the highest published version is the target or a later one.
        highest = WorkflowVersion.objects.filter(workflow_id=workflow_id, is_published=True).order_by(
            "-version").first() or target
        WorkflowVersion.objects.filter(workflow_id=workflow_id, is_current_published=True).exclude(
            pk=highest.pk).update(is_current_published=False)
        WorkflowVersion.objects.filter(pk=highest.pk).update(is_current_published=True)
        target.refresh_from_db()
    return workflow_to_wire(target)


def workflow_file_upload(*, workflow_id: str, upload: Any | None) -> dict[str, Any]:
    """Attaches an uploaded file (multipart field ``file``) to the workflow."""
    if upload is None:
        raise validation_error([InvalidParam("file", "A multipart file field named 'file' is required.")])
    if upload.size > MAX_UPLOAD_BYTES:
        raise validation_error([InvalidParam("file", f"Must be at most {MAX_UPLOAD_BYTES} bytes.")])
    filename = (upload.name or "file")[:255]
    content = upload.read()
    with transaction.atomic():
        if not Workflow.objects.filter(id=workflow_id).exists():
            raise not_found(f"Workflow {workflow_id!r}")
        file = WorkflowFile.objects.create(workflow_id=workflow_id, filename=filename,
                                           content_type=upload.content_type or "application/octet-stream",
                                           size=len(content), content=content, created_at=clock.now())
    return {"id": file.id, "filename": file.filename, "contentType": file.content_type, "size": file.size}


# --- journeys -----------------------------------------------------------------------------------


def journey_url(journey_id: str, ttl: int) -> str:
    """A signed URL to the end-user page of the journey, valid for ``ttl`` seconds of the sandbox clock."""
    expires = int((clock.now() + timedelta(seconds=ttl)).timestamp())
    token = signing.dumps({"j": journey_id, "x": expires}, salt=JOURNEY_URL_SALT, compress=False)
    return f"{settings.SANDBOX_PUBLIC_URL}/journey/{journey_id}?t={token}"


@dataclass(frozen=True)
class UrlCheck:
    valid: bool
    expired: bool


def journey_url_check(journey_id: str, token: str) -> UrlCheck:
    """Whether ``token`` is a genuine URL token for the journey, and whether it has expired."""
    try:
        payload = signing.loads(token, salt=JOURNEY_URL_SALT)
    except signing.BadSignature:
        return UrlCheck(valid=False, expired=False)
    if not isinstance(payload, dict) or payload.get("j") != journey_id:
        return UrlCheck(valid=False, expired=False)
    return UrlCheck(valid=True, expired=clock.now().timestamp() >= payload.get("x", 0))


def journey_start(*, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Starts a journey from the workflow's latest published version (else its latest) and runs it until it
    waits, finishes or faults. Answers ``{journeyId, stepId (the step it waits on, or null), journeyUrl}``."""
    checker = Checker()
    journey_input = checker.obj(body, "input")
    ttl = checker.integer(body, "journeyUrlTtl", low=1, high=MAX_START_URL_TTL)
    checker.raise_if_invalid()
    with transaction.atomic():
        # The current published version sorts before the latest one; either may be missing.
        version = (WorkflowVersion.objects.filter(Q(is_current_published=True) | Q(is_latest=True),
                                                  workflow_id=workflow_id)
                   .order_by("-is_current_published").first())
        if version is None:
            raise not_found(f"Workflow {workflow_id!r}")
        allowed = {p["name"] for p in version.input_parameters or []}
        if allowed and journey_input:
            # The workflow's inputParameters list the keys it accepts; other keys are a client mistake.
            unknown = [key for key in journey_input if key not in allowed]
            if unknown:
                raise validation_error([InvalidParam(f"input.{key}", "Not an input parameter of this workflow.")
                                        for key in unknown])
        # Neither row is written yet: the engine inserts both once the journey rests (one INSERT each instead of
        # an INSERT now and an UPDATE then).
        journey = Journey(workflow_id=workflow_id, version=version.version, workflow_version=version,
                          workflow_name=version.name, created_at=clock.now(), status=JourneyStatus.IDLE)
        publish_event("mint-api:journey_status_changed", {
            "journeyId": journey.id, "workflowId": workflow_id, "status": JourneyStatus.IDLE, "previousStatus": None,
        })
        waiting_on = engine.start(journey, JourneyState(journey=journey, input=journey_input))
    return {"journeyId": journey.id, "stepId": waiting_on,
            "journeyUrl": journey_url(journey.id, ttl or DEFAULT_URL_TTL)}


def journey_url_create(*, journey_id: str, body: dict[str, Any]) -> dict[str, Any]:
    checker = Checker()
    ttl = checker.integer(body, "timeToLive", low=0, high=MAX_URL_TTL)
    checker.raise_if_invalid()
    journey_get_row(journey_id)
    return {"journeyUrl": journey_url(journey_id, DEFAULT_URL_TTL if ttl is None else ttl)}


def _check_step_id(body: dict[str, Any], checker: Checker) -> str | None:
    """The required ``stepId`` (None when invalid: :meth:`Checker.raise_if_invalid` answers it)."""
    return checker.string(body, "stepId", required=True, nullable=False, max_length=MAX_STEP_ID_LENGTH)


def _journey_with_step(journey_id: str, step_id: str) -> Journey:
    """The journey, when its workflow version has the step ``step_id`` (a 404 without the journey, a 400 without
    the step)."""
    journey = journey_get_row(journey_id)
    # A stepId the journey's workflow version does not have is a bad request field (400 naming stepId), not
    # a missing resource: the journey in the path exists.
    if not any(step["id"] == step_id for step in journey.workflow_version.steps):
        raise validation_error([InvalidParam("stepId", f"The journey's workflow has no step {step_id!r}.")])
    return journey


def journey_resume(*, journey_id: str, body: dict[str, Any]) -> None:
    """Continues a step waiting for manual continuation: a ``suspend`` step (its output is the input), or an
    end-user step completed on the user's behalf (form: the input is the values; eid-login: Success).
    Approvals need :func:`journey_approve`; any other step, or one not waiting, is a 409."""
    checker = Checker()
    resume_input = checker.obj(body, "input")
    step_id = _check_step_id(body, checker)
    checker.raise_if_invalid()
    step_id = required(step_id)
    with transaction.atomic():
        journey = _journey_with_step(journey_id, step_id)
        wait = JourneyWait.objects.filter(journey=journey, step_id=step_id).first()
        outcome = "Success" if wait is not None and wait.step_type == "eid-login" else "Done"
        engine.complete_wait(journey, step_id, {WaitKind.RESUME, WaitKind.END_USER}, outcome, resume_input or {},
                             f"Step {step_id} was resumed through the API.")


def journey_approve(*, journey_id: str, body: dict[str, Any]) -> None:
    """Decides a waiting ``require-approval`` step: Approved when input.approved, else Rejected; the step's
    output is ``{approved, message}``."""
    checker = Checker()
    decision = checker.obj(body, "input", required=True)
    approved = message = None
    if decision is not None:
        approved = checker.boolean(decision, "approved", "input.approved", required=True)
        message = checker.string(decision, "message", "input.message")
    step_id = _check_step_id(body, checker)
    checker.raise_if_invalid()
    step_id = required(step_id)
    with transaction.atomic():
        journey = _journey_with_step(journey_id, step_id)
        engine.complete_wait(journey, step_id, {WaitKind.APPROVAL}, "Approved" if approved else "Rejected",
                             {"approved": approved, "message": message},
                             f"Step {step_id} was {'approved' if approved else 'rejected'} through the API.")


def journey_end_user_complete(*, journey_id: str, step_id: str, outcome: str, output: dict[str, Any]) -> None:
    """Completes an end-user step (form, eid-login) from the journey page."""
    with transaction.atomic():
        journey = journey_get_row(journey_id)
        engine.complete_wait(journey, step_id, {WaitKind.END_USER}, outcome, output,
                             f"Step {step_id} was completed by the end user.")


def journey_cancel(*, journey_id: str) -> None:
    """Cancels a journey from outside (409 when it has already ended)."""
    with transaction.atomic():
        engine.cancel(journey_get_row(journey_id), "The journey was cancelled from outside.")


# --- notes and secrets --------------------------------------------------------------------------


def note_create(*, journey_id: str, body: dict[str, Any], caller: Caller) -> dict[str, Any]:
    checker = Checker()
    step_id = checker.string(body, "stepId", max_length=MAX_STEP_ID_LENGTH)
    content = checker.string(body, "content", required=True, nullable=False, max_length=MAX_NOTE_LENGTH)
    checker.raise_if_invalid()
    with transaction.atomic():
        journey_get_row(journey_id)
        note = Note.objects.create(journey_id=journey_id, step_id=step_id, content=required(content),
                                   created_by=caller.client_id, created_at=clock.now())
    return note_to_wire(note)


def note_update(*, journey_id: str, note_id: str, body: dict[str, Any]) -> dict[str, Any]:
    checker = Checker()
    content = checker.string(body, "content", required=True, nullable=False, max_length=MAX_NOTE_LENGTH)
    checker.raise_if_invalid()
    with transaction.atomic():
        journey_get_row(journey_id)
        note = Note.objects.filter(journey_id=journey_id, id=note_id).first()
        if note is None:
            raise not_found(f"Note {note_id!r} of journey {journey_id!r}")
        note.content = required(content)
        note.updated_at = clock.now()
        note.save(update_fields=["content", "updated_at"])
    return note_to_wire(note)


def secret_create(*, body: dict[str, Any]) -> dict[str, Any]:
    checker = Checker()
    name = checker.string(body, "name", required=True, nullable=False, min_length=1, max_length=50)
    description = checker.string(body, "description", max_length=100)
    value = checker.string(body, "value", required=True, nullable=False, max_length=4000)
    checker.raise_if_invalid()
    secret = Secret.objects.create(name=required(name), description=description, value=required(value),
                                   created_at=clock.now())
    return secret_to_wire(secret)


def secret_update(*, secret_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Updates the fields present and not null (PATCH semantics)."""
    checker = Checker()
    name = checker.string(body, "name", min_length=1, max_length=50)
    description = checker.string(body, "description", max_length=100)
    value = checker.string(body, "value", max_length=4000)
    checker.raise_if_invalid()
    with transaction.atomic():
        secret = Secret.objects.filter(id=secret_id).first()
        if secret is None:
            raise not_found(f"Secret {secret_id!r}")
        if name is not None:
            secret.name = name
        if description is not None:
            secret.description = description
        if value is not None:
            secret.value = value
        secret.updated_at = clock.now()
        secret.save()
    return secret_to_wire(secret)


# --- due work (the scheduler thread and POST /_sandbox/clock) ----------------------------------

_due_lock = threading.Lock()


def run_due_timers() -> int:
    """Completes every ``waiting`` step whose delay has passed; returns how many."""
    done = 0
    due = JourneyWait.objects.filter(kind=WaitKind.TIMER, due_at__lte=clock.now()).order_by("due_at", "id")
    for wait in list(due.values("journey_id", "step_id")[:500]):
        try:
            with transaction.atomic():
                journey = Journey.objects.get(pk=wait["journey_id"])
                engine.complete_wait(journey, wait["step_id"], {WaitKind.TIMER}, "Done", {},
                                     f"Step {wait['step_id']}'s delay has passed.")
            done += 1
        except Exception:
            # One broken journey must not stop the others' timers; the next tick retries it.
            logger.exception("running the timer of journey %s failed", wait["journey_id"])
    return done


def cancel_inactive_journeys() -> int:
    """Cancels active journeys whose last execution is older than the inactivity limit; returns how many."""
    cutoff = clock.now() - timedelta(seconds=control.inactivity_limit())
    stale = Journey.objects.filter(status=JourneyStatus.ACTIVE, last_executed_at__lte=cutoff).order_by(
        "last_executed_at", "id")
    cancelled = 0
    for journey_id in list(stale.values_list("id", flat=True)[:500]):
        with transaction.atomic():
            journey = Journey.objects.get(pk=journey_id)
            if journey.status == JourneyStatus.ACTIVE:
                engine.cancel(journey, "The journey waited longer than the inactivity limit.")
                cancelled += 1
    return cancelled


def run_due() -> None:
    """Runs what fell due by the sandbox clock: timers, inactivity cancellations, event deliveries.

    Serialised by a lock, so the scheduler thread and a clock advance never run the same work twice.
    """
    with _due_lock:
        run_due_timers()
        cancel_inactive_journeys()
        deliver_due()
