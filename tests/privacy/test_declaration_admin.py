"""The privacy models in the Django admin: listed for those who may audit everything, and changed by nobody."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy import kinds
from privacy.models import PersonalDataDeclaration, RetentionRule, RevealGrant

pytestmark = pytest.mark.django_db

MODELS = ("personaldatadeclaration", "retentionrule", "revealgrant")


@pytest.fixture
def rows(superuser: User) -> dict[str, int]:
    now = timezone.now()
    declaration = PersonalDataDeclaration.objects.create(
        workflow_id="wf-1", version=1, fields=[{"path": "input.name", "kind": kinds.NAME}], updated_at=now)
    rule = RetentionRule.objects.create(workflow_id="wf-1", days=30, updated_at=now)
    grant = RevealGrant.objects.create(user=superuser, journey_id="j-1", workflow_id="wf-1", reason="complaint",
                                       granted_at=now, expires_at=now)
    return {"personaldatadeclaration": declaration.pk, "retentionrule": rule.pk, "revealgrant": grant.pk}


@pytest.mark.parametrize("model", MODELS)
def test_an_auditor_of_everything_reads_each_model_and_changes_nothing(
        root_client: Client, rows: dict[str, int], model: str) -> None:
    assert root_client.get(reverse(f"admin:privacy_{model}_changelist")).status_code == 200
    assert root_client.get(reverse(f"admin:privacy_{model}_change", args=[rows[model]])).status_code == 200
    assert root_client.get(reverse(f"admin:privacy_{model}_add")).status_code == 403
    assert root_client.post(reverse(f"admin:privacy_{model}_delete", args=[rows[model]]),
                            {"post": "yes"}).status_code == 403
    assert PersonalDataDeclaration.objects.count() == RetentionRule.objects.count() == RevealGrant.objects.count() == 1


@pytest.mark.parametrize("model", MODELS)
def test_staff_without_the_audit_right_see_none_of_them(client: Client, case_handler: User, model: str) -> None:
    case_handler.is_staff = True
    case_handler.save(update_fields=["is_staff"])
    client.force_login(case_handler)
    assert client.get(reverse(f"admin:privacy_{model}_changelist")).status_code == 403
