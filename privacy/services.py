"""Writes of personal-data declarations, retention rules and reveals; each one audited."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.models import Action
from accounts.policy import ensure_can
from accounts.services import audit_record
from mintportal.errors import Refused
from privacy import kinds
from privacy.models import MAX_FIELDS, MAX_PATH, MAX_REASON, PersonalDataDeclaration, RetentionRule, RevealGrant
from privacy.signals import declaration_changed

_KEY = re.compile(r"[^\s.\"\\=~<>!\x00-\x1f]+")
MAX_RETENTION_DAYS = 36500


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be declared, or None: ``input.<key>…`` or ``steps.<stepId>.<key>…``."""
    if not path:
        return "Give the field's path, such as input.nationalId or steps.login.nationalId."
    if len(path) > MAX_PATH:
        return f"A path may have at most {MAX_PATH} characters (this one has {len(path)})."
    keys = path.split(".")
    if keys[0] not in ("input", "steps") or len(keys) < (2 if keys[0] == "input" else 3):
        return f"“{path}” must start with input.<field> or steps.<step>.<field>."
    if not all(_KEY.fullmatch(key) for key in keys):
        return f"“{path}” has an empty key or a character a key may not have."
    return None


def declaration_problems(fields: Iterable[Mapping[str, Any]]) -> list[str]:
    """Everything wrong with a declaration, for the editor (empty when it may be saved)."""
    problems: list[str] = []
    seen: set[str] = set()
    items = list(fields)
    if len(items) > MAX_FIELDS:
        problems.append(f"A workflow may declare at most {MAX_FIELDS} personal fields ({len(items)} given).")
    for item in items:
        path = str(item.get("path", "")).strip()
        problem = path_problem(path)
        if problem:
            problems.append(problem)
        if item.get("kind") not in kinds.KINDS:
            problems.append(f"Choose what kind of personal data “{path[:MAX_PATH]}” holds.")
        if path in seen:
            problems.append(f"“{path}” is declared twice.")
        seen.add(path)
    return problems


def _declared(count: int, version: int) -> str:
    return f"Declared {count} personal field{'' if count == 1 else 's'} of version {version}"


def declaration_save(*, actor: AbstractBaseUser, workflow_id: str, version: int,
                     fields: list[Mapping[str, Any]]) -> PersonalDataDeclaration:
    """Stores the personal fields of one workflow version (MANAGE); the mirror then re-marks the workflow's
    stored data (``privacy.signals.declaration_changed``)."""
    ensure_can(user=actor, action=Action.MANAGE, workflow_id=workflow_id)
    problems = declaration_problems(fields)
    if problems:
        raise Refused(" ".join(problems))
    cleaned = [{"path": str(item["path"]).strip(), "kind": str(item["kind"])} for item in fields]
    with transaction.atomic():
        declaration, _ = PersonalDataDeclaration.objects.update_or_create(
            workflow_id=workflow_id, version=version,
            defaults={"fields": cleaned, "updated_by_id": actor.pk, "updated_at": timezone.now()})
        audit_record(actor=actor, action="workflow.personal_data", workflow_id=workflow_id,
                     summary=_declared(len(cleaned), version),
                     detail={"version": version, "fields": cleaned})
        transaction.on_commit(lambda: declaration_changed.send(sender=PersonalDataDeclaration,
                                                               workflow_id=workflow_id))
    return declaration


def retention_rule_save(*, actor: AbstractBaseUser, workflow_id: str, days: int | None) -> None:
    """Sets a workflow's own retention in days, or (None) returns it to the portal's default (MANAGE)."""
    ensure_can(user=actor, action=Action.MANAGE, workflow_id=workflow_id)
    if days is not None and not 0 <= days <= MAX_RETENTION_DAYS:
        raise Refused(f"Retention is 0 to {MAX_RETENTION_DAYS} days.")
    with transaction.atomic():
        if days is None:
            RetentionRule.objects.filter(workflow_id=workflow_id).delete()
        else:
            RetentionRule.objects.update_or_create(workflow_id=workflow_id, defaults={
                "days": days, "updated_by_id": actor.pk, "updated_at": timezone.now()})
        shown = f"{days} days" if days is not None else f"the default ({settings.PERSONAL_DATA_RETENTION_DAYS} days)"
        audit_record(actor=actor, action="workflow.retention", workflow_id=workflow_id,
                     summary=f"Retention set to {shown}", detail={"days": days})


def reveal(*, actor: AbstractBaseUser, journey_id: str, workflow_id: str, reason: str,
           fields: Iterable[str]) -> RevealGrant:
    """Lets ``actor`` see one journey's personal values for ``PERSONAL_DATA_REVEAL_MINUTES``: needs the reveal
    right on its workflow and a reason; one audit event with the reason and the fields' paths (never values).

    The caller has already found the journey visible to ``actor`` (its workflow id comes from there)."""
    ensure_can(user=actor, action=Action.REVEAL, workflow_id=workflow_id)
    reason = " ".join(reason.split())
    if not reason:
        raise Refused("Say why you need to see this person's data: the reason goes to the audit trail.")
    if len(reason) > MAX_REASON:
        raise Refused(f"A reason may have at most {MAX_REASON} characters ({len(reason)} given).")
    paths = sorted(set(fields))
    now = timezone.now()
    with transaction.atomic():
        grant = RevealGrant.objects.create(
            user_id=actor.pk, journey_id=journey_id, workflow_id=workflow_id, reason=reason, fields=paths,
            granted_at=now, expires_at=now + timedelta(minutes=settings.PERSONAL_DATA_REVEAL_MINUTES))
        audit_record(actor=actor, action="journey.reveal", workflow_id=workflow_id, journey_id=journey_id,
                     # The reason in the summary too: "why was this looked at" is the auditor's first question.
                     summary=f"Revealed {len(paths)} personal field{'' if len(paths) == 1 else 's'} for "
                             f"{settings.PERSONAL_DATA_REVEAL_MINUTES} minutes: {reason}",
                     detail={"reason": reason, "fields": paths,
                             "minutes": settings.PERSONAL_DATA_REVEAL_MINUTES})
    return grant


def reveal_grants_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Deletes grants that ended more than ``older_than`` ago (the audit trail keeps each reveal)."""
    return RevealGrant.objects.filter(expires_at__lt=timezone.now() - older_than).delete()[0]


def declaration_seed(*, workflow_id: str, version: int, fields: list[Mapping[str, Any]]) -> bool:
    """Stores a declaration on no one's behalf (the demo setup), audited as the system; returns whether anything
    changed. Unlike ``declaration_save`` it needs no actor, and it writes (and audits) nothing when the stored
    declaration already has exactly these fields, so running a setup again leaves rows and audit trail alone."""
    problems = declaration_problems(fields)
    if problems:
        raise Refused(" ".join(problems))
    cleaned = [{"path": str(item["path"]).strip(), "kind": str(item["kind"])} for item in fields]
    with transaction.atomic():
        stored = (PersonalDataDeclaration.objects.select_for_update()
                  .filter(workflow_id=workflow_id, version=version).first())
        if stored is not None and stored.fields == cleaned:
            return False
        PersonalDataDeclaration.objects.update_or_create(
            workflow_id=workflow_id, version=version,
            defaults={"fields": cleaned, "updated_by_id": None, "updated_at": timezone.now()})
        audit_record(actor=None, action="workflow.personal_data", workflow_id=workflow_id,
                     summary=_declared(len(cleaned), version),
                     detail={"version": version, "fields": cleaned})
        transaction.on_commit(lambda: declaration_changed.send(sender=PersonalDataDeclaration,
                                                               workflow_id=workflow_id))
    return True
