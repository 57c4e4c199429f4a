"""Writes for workflows and secrets: each calls Mint, updates the portal's records, invalidates the cache
keys it affects and records exactly one audit event (``failed`` with Mint's trace id when Mint refuses).

Secret values pass straight from the form to the client: they are never stored, logged or audited.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import AuditEvent, WorkflowRecord
from accounts.services import audit_record
from mintportal.cache import cache_delete, generation_bump
from mintportal.mint import errors, get_client, models
from workflows.models import SecretRecord
from workflows.selectors import LISTING_GENERATION, workflow_definition_key, workflow_versions_key


def _failed(exc: errors.MintError) -> str:
    return AuditEvent.Outcome.UNKNOWN if isinstance(exc, errors.MintOutcomeUnknownError) else AuditEvent.Outcome.FAILED


def workflow_cache_invalidate(*, workflow_id: str) -> None:
    """Forgets the cached latest definition and versions of one workflow, and every workflow listing."""
    cache_delete(
        workflow_definition_key(workflow_id=workflow_id, version=None),
        workflow_versions_key(workflow_id=workflow_id),
    )
    # Listings are keyed by search, sort and page; moving the generation retires all of them at once.
    generation_bump(LISTING_GENERATION)


def workflow_mirror_save(*, workflow: models.WorkflowDefinition) -> None:
    """Stores what access decisions need about a workflow (name, description, tags, version)."""
    WorkflowRecord.objects.update_or_create(
        id=workflow.id,
        defaults={
            "name": workflow.name or "",
            "description": workflow.description or "",
            "tags": list(workflow.tags),
            "version": workflow.version,
            "seen_at": timezone.now(),
        },
    )


def _audit_detail(data: models.WorkflowInput) -> dict[str, object]:
    return {"name": data.name, "steps": len(data.steps), "tags": list(data.tags or [])}


def workflow_create(*, actor: AbstractBaseUser, data: models.WorkflowInput) -> models.WorkflowDefinition:
    """Creates a workflow in Mint (its version 1) and mirrors it. Raises ``MintError`` when Mint refuses."""
    try:
        workflow = get_client().create_workflow(data)
    except errors.MintError as exc:
        audit_record(actor=actor, action="workflow.create", outcome=_failed(exc),
                     summary=f"Create workflow “{data.name}” refused by Mint", detail=_audit_detail(data),
                     trace_id=exc.trace_id)
        raise
    workflow_mirror_save(workflow=workflow)
    workflow_cache_invalidate(workflow_id=workflow.id)
    audit_record(actor=actor, action="workflow.create", workflow_id=workflow.id,
                 summary=f"Created workflow “{workflow.name}” (version {workflow.version})",
                 detail=_audit_detail(data))
    return workflow


def workflow_update(*, actor: AbstractBaseUser, workflow_id: str, data: models.WorkflowInput) -> models.WorkflowDefinition:
    """Saves a new version of a workflow in Mint and mirrors it. Raises ``MintError`` when Mint refuses."""
    try:
        workflow = get_client().update_workflow(workflow_id, data)
    except errors.MintError as exc:
        audit_record(actor=actor, action="workflow.update", outcome=_failed(exc), workflow_id=workflow_id,
                     summary=f"Save workflow “{data.name}” refused by Mint", detail=_audit_detail(data),
                     trace_id=exc.trace_id)
        raise
    workflow_mirror_save(workflow=workflow)
    workflow_cache_invalidate(workflow_id=workflow_id)
    audit_record(actor=actor, action="workflow.update", workflow_id=workflow_id,
                 summary=f"Saved workflow “{workflow.name}” as version {workflow.version}",
                 detail=_audit_detail(data))
    return workflow


def workflow_publish(*, actor: AbstractBaseUser, workflow_id: str, version: int) -> models.WorkflowVersion:
    """Publishes one version, so new journeys start from it. Raises ``MintError`` when Mint refuses."""
    try:
        published = get_client().publish_workflow_version(workflow_id, version)
    except errors.MintError as exc:
        audit_record(actor=actor, action="workflow.publish", outcome=_failed(exc), workflow_id=workflow_id,
                     summary=f"Publish version {version} refused by Mint", detail={"version": version},
                     trace_id=exc.trace_id)
        raise
    workflow_cache_invalidate(workflow_id=workflow_id)
    cache_delete(workflow_definition_key(workflow_id=workflow_id, version=version))
    audit_record(actor=actor, action="workflow.publish", workflow_id=workflow_id,
                 summary=f"Published version {version}", detail={"version": version})
    return published


@sensitive_variables("value")
def secret_create(*, actor: AbstractBaseUser, name: str, description: str, value: str) -> SecretRecord:
    """Creates a workflow secret in Mint and adds it to the portal's register (never the value)."""
    try:
        secret = get_client().create_secret(name=name, value=value, description=description or None)
    except errors.MintError as exc:
        audit_record(actor=actor, action="secret.create", outcome=_failed(exc),
                     summary=f"Create secret “{name}” refused by Mint", detail={"name": name},
                     trace_id=exc.trace_id)
        raise
    now = timezone.now()
    with transaction.atomic():
        record, _ = SecretRecord.objects.update_or_create(
            id=secret.id,
            defaults={
                "name": secret.name, "description": secret.description or "",
                "created_by": actor, "created_at": secret.created_at or now,
                "updated_by": actor, "updated_at": secret.updated_at or now,
            },
        )
        audit_record(actor=actor, action="secret.create", summary=f"Created secret “{secret.name}”",
                     detail={"secret_id": secret.id, "name": secret.name})
    return record


@sensitive_variables("value")
def secret_update(
    *, actor: AbstractBaseUser, secret_id: str, name: str, description: str, value: str | None
) -> SecretRecord:
    """Updates a secret's name and description, and its value when ``value`` is not None.

    The register row is updated (or added, for a secret created elsewhere); the audit event says whether
    the value changed, never what it is.
    """
    try:
        secret = get_client().update_secret(secret_id, name=name, description=description, value=value)
    except errors.MintError as exc:
        audit_record(actor=actor, action="secret.update", outcome=_failed(exc),
                     summary=f"Update secret “{name}” refused by Mint",
                     detail={"secret_id": secret_id, "name": name, "value_changed": value is not None},
                     trace_id=exc.trace_id)
        raise
    now = timezone.now()
    with transaction.atomic():
        record, created = SecretRecord.objects.get_or_create(
            id=secret.id,
            defaults={"name": secret.name, "created_by": actor, "created_at": secret.created_at or now,
                      "updated_by": actor, "updated_at": now},
        )
        if not created:
            record.name = secret.name
        record.description = secret.description or ""
        record.updated_by = actor
        record.updated_at = secret.updated_at or now
        record.save()
        audit_record(actor=actor, action="secret.update", summary=f"Updated secret “{secret.name}”",
                     detail={"secret_id": secret.id, "name": secret.name, "value_changed": value is not None})
    return record
