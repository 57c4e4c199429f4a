"""Reads of personal-data declarations, retention rules and reveals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.models import Action
from accounts.policy import user_can
from privacy.masking import PersonalField
from privacy.models import PersonalDataDeclaration, RetentionRule, RevealGrant

Fields = tuple[PersonalField, ...]


def _fields(raw: object) -> Fields:
    if not isinstance(raw, list):
        return ()
    return tuple(PersonalField(path=str(item["path"]), kind=str(item["kind"])) for item in raw
                 if isinstance(item, dict) and item.get("path") and item.get("kind"))


def _nearest(by_version: dict[int, Fields], version: int) -> Fields:
    """The declaration of ``version``, else of the nearest earlier version, else of the nearest later one."""
    if version in by_version:
        return by_version[version]
    earlier = [known for known in by_version if known < version]
    if earlier:
        return by_version[max(earlier)]
    later = [known for known in by_version if known > version]
    return by_version[min(later)] if later else ()


def declarations_for(pairs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Fields]:
    """The personal fields that apply to each (workflow id, version), in one query."""
    wanted = set(pairs)
    workflow_ids = {workflow_id for workflow_id, _ in wanted}
    if not workflow_ids:
        return {}
    stored: dict[str, dict[int, Fields]] = defaultdict(dict)
    for workflow_id, version, raw in PersonalDataDeclaration.objects.filter(
            workflow_id__in=workflow_ids).values_list("workflow_id", "version", "fields"):
        stored[workflow_id][version] = _fields(raw)
    return {(workflow_id, version): _nearest(stored.get(workflow_id, {}), version) for workflow_id, version in wanted}


def declaration_fields(*, workflow_id: str, version: int) -> Fields:
    return declarations_for([(workflow_id, version)])[(workflow_id, version)]


def declaration_get(*, workflow_id: str, version: int) -> PersonalDataDeclaration | None:
    """The declaration stored for exactly this version (the editor's starting point), or None."""
    return PersonalDataDeclaration.objects.filter(workflow_id=workflow_id, version=version).first()


def personal_paths() -> dict[str, frozenset[str]]:
    """Every declared path (in any workflow and version) with the kinds it is declared as: the journeys list
    refuses partial matches on these paths and matches ``=`` by keyed hash."""
    found: dict[str, set[str]] = defaultdict(set)
    for raw in PersonalDataDeclaration.objects.values_list("fields", flat=True):
        for personal in _fields(raw):
            found[personal.path].add(personal.kind)
    return {path: frozenset(kinds) for path, kinds in found.items()}


def retention_days(*, workflow_id: str) -> int:
    rule = RetentionRule.objects.filter(workflow_id=workflow_id).values_list("days", flat=True).first()
    return settings.PERSONAL_DATA_RETENTION_DAYS if rule is None else rule


def retention_rules() -> dict[str, int]:
    """Each workflow's own retention in days (workflows without one use the setting)."""
    return dict(RetentionRule.objects.values_list("workflow_id", "days"))


def reveal_active(*, user: AbstractBaseUser | AnonymousUser, journey_id: str, workflow_id: str,
                  now: datetime | None = None) -> RevealGrant | None:
    """The reveal that lets ``user`` see ``journey_id``'s personal values now, if any. A grant no longer counts
    once the user has lost the right to reveal on the journey's workflow."""
    if not user.is_authenticated:
        return None
    grant = (RevealGrant.objects.filter(user_id=user.pk, journey_id=journey_id,
                                        expires_at__gt=now or timezone.now())
             .order_by("-expires_at").first())
    if grant is None or not user_can(user=user, action=Action.REVEAL, workflow_id=workflow_id):
        return None
    return grant


def may_reveal(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> bool:
    return user_can(user=user, action=Action.REVEAL, workflow_id=workflow_id)


def declaration_source(*, workflow_id: str, version: int) -> int | None:
    """The version whose stored declaration applies to ``version`` (itself, the nearest earlier, else the nearest
    later one, as ``declarations_for`` chooses), or None when the workflow has none: the editor says where the
    fields it shows come from."""
    stored = set(PersonalDataDeclaration.objects.filter(workflow_id=workflow_id).values_list("version", flat=True))
    if version in stored:
        return version
    earlier = [known for known in stored if known < version]
    if earlier:
        return max(earlier)
    later = [known for known in stored if known > version]
    return min(later) if later else None


def retention_rule_days(*, workflow_id: str) -> int | None:
    """The workflow's own retention in days, or None when the portal's default applies."""
    return RetentionRule.objects.filter(workflow_id=workflow_id).values_list("days", flat=True).first()
