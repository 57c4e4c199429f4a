"""Writes for workflows and secrets: each calls Mint, updates the portal's records, invalidates the cache
keys it affects and records exactly one audit event (``failed`` with Mint's trace id when Mint refuses).

Secret values pass straight from the form to the client: they are never stored, logged or audited.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import WorkflowRecord
from accounts.services import audit_record, mint_write_audited
from mintportal.cache import cache_delete, generation_bump
from mintportal.errors import Refused
from mintportal.mint import get_client, models
from workflows.models import SecretRecord, StepForm
from workflows.selectors import (
    LISTING_GENERATION,
    step_is_manual,
    workflow_definition_key,
    workflow_versions_key,
)
from workflows.stepforms import FormField, form_problems


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


def workflow_create(*, actor: User, data: models.WorkflowInput) -> models.WorkflowDefinition:
    """Creates a workflow in Mint (its version 1) and mirrors it. Raises ``MintError`` when Mint refuses."""
    with mint_write_audited(actor=actor, action="workflow.create", detail=_audit_detail(data),
                            failed=f"Create workflow “{data.name}” refused by Mint") as write:
        workflow = get_client().create_workflow(data)
        workflow_mirror_save(workflow=workflow)
        workflow_cache_invalidate(workflow_id=workflow.id)
        write.ok(f"Created workflow “{workflow.name}” (version {workflow.version})", workflow_id=workflow.id)
    return workflow


def workflow_update(*, actor: User, workflow_id: str, data: models.WorkflowInput) -> models.WorkflowDefinition:
    """Saves a new version of a workflow in Mint and mirrors it. Raises ``MintError`` when Mint refuses."""
    with mint_write_audited(actor=actor, action="workflow.update", workflow_id=workflow_id,
                            detail=_audit_detail(data),
                            failed=f"Save workflow “{data.name}” refused by Mint") as write:
        workflow = get_client().update_workflow(workflow_id, data)
        workflow_mirror_save(workflow=workflow)
        workflow_cache_invalidate(workflow_id=workflow_id)
        write.ok(f"Saved workflow “{workflow.name}” as version {workflow.version}")
    return workflow


def workflow_publish(*, actor: User, workflow_id: str, version: int) -> models.WorkflowVersion:
    """Publishes one version, so new journeys start from it. Raises ``MintError`` when Mint refuses."""
    with mint_write_audited(actor=actor, action="workflow.publish", workflow_id=workflow_id,
                            detail={"version": version},
                            failed=f"Publish version {version} refused by Mint") as write:
        published = get_client().publish_workflow_version(workflow_id, version)
        workflow_cache_invalidate(workflow_id=workflow_id)
        cache_delete(workflow_definition_key(workflow_id=workflow_id, version=version))
        write.ok(f"Published version {version}")
    return published


@sensitive_variables("value")
def secret_create(*, actor: User, name: str, description: str, value: str) -> SecretRecord:
    """Creates a workflow secret in Mint and adds it to the portal's register (never the value)."""
    with mint_write_audited(actor=actor, action="secret.create", detail={"name": name},
                            failed=f"Create secret “{name}” refused by Mint") as write:
        secret = get_client().create_secret(name=name, value=value, description=description or None)
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
            write.ok(f"Created secret “{secret.name}”", detail={"secret_id": secret.id, "name": secret.name})
    return record


@sensitive_variables("value")
def secret_update(
    *, actor: User, secret_id: str, name: str, description: str, value: str | None
) -> SecretRecord:
    """Updates a secret's name and description, and its value when ``value`` is not None.

    The register row is updated (or added, for a secret created elsewhere); the audit event says whether
    the value changed, never what it is.
    """
    with mint_write_audited(actor=actor, action="secret.update",
                            detail={"secret_id": secret_id, "name": name, "value_changed": value is not None},
                            failed=f"Update secret “{name}” refused by Mint") as write:
        secret = get_client().update_secret(secret_id, name=name, description=description, value=value)
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
            write.ok(f"Updated secret “{secret.name}”",
                     detail={"secret_id": secret.id, "name": secret.name, "value_changed": value is not None})
    return record


def step_form_save(*, actor: User, workflow: models.WorkflowDefinition, step_id: str,
                   fields: Sequence[FormField]) -> StepForm:
    """Saves the form of suspend step ``step_id`` for this version of the workflow (replacing the version's
    earlier form) and records one ``workflow.step_form.save`` audit event naming the keys, in one transaction.

    The checks of ``workflows.stepforms.form_problems`` run again here, whatever form the fields came from: a
    refused form raises ``Refused`` listing every problem, as does a step that is not a suspend step of the
    version. Nothing is sent to Mint: the form is the portal's own.
    """
    if not step_is_manual(workflow=workflow, step_id=step_id):
        raise Refused(f"Step “{step_id}” is not a suspend step of version {workflow.version}; only those have forms.")
    problems = form_problems(fields)
    if problems:
        raise Refused(" ".join(problems))
    with transaction.atomic():
        form, _ = StepForm.objects.update_or_create(
            workflow_id=workflow.id, version=workflow.version, step_id=step_id,
            defaults={"fields": [item.to_json() for item in fields], "updated_by": actor, "updated_at": timezone.now()},
        )
        keys = [item.key for item in fields]
        audit_record(actor=actor, action="workflow.step_form.save", workflow_id=workflow.id,
                     summary=f"Saved the form of step {step_id} (version {workflow.version}): {len(keys)} fields",
                     detail={"version": workflow.version, "step_id": step_id, "keys": keys})
    return form
