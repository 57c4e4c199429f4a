"""Workflow secrets: created and updated through Mint, listed from the portal's register, values never shown."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from tests.sandbox.helpers import unique
from workflows.models import SecretRecord

pytestmark = pytest.mark.django_db
SECRETS = reverse("workflows:secrets")
CANARY = "canary-Zx9-secret-value-never-shown"


@pytest.fixture
def watched_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_nowhere(response, caplog: pytest.LogCaptureFixture) -> None:
    assert CANARY not in response.content.decode()
    assert CANARY not in caplog.text
    assert not any(CANARY in str(event.detail) + event.summary for event in AuditEvent.objects.all())


def test_creating_a_secret_adds_it_to_the_register_without_its_value(root_client: Client, superuser: User,
                                                                     mint_settings, watched_logs) -> None:
    name = unique("api-key")
    response = root_client.post(SECRETS, {"name": name, "description": "Bank API", "value": CANARY}, follow=True)
    html = response.content.decode()
    assert f"Created secret “{name}”" in html
    record = SecretRecord.objects.get(name=name)
    assert (record.description, record.created_by, record.updated_by) == ("Bank API", superuser, superuser)
    assert f"<strong>{name}</strong>" in html
    event = AuditEvent.objects.get(action="secret.create")
    assert event.outcome == "ok" and event.detail["secret_id"] == record.id
    assert_nowhere(response, watched_logs)


def test_a_refused_secret_form_never_echoes_the_value(root_client: Client, mint_settings, watched_logs) -> None:
    response = root_client.post(SECRETS, {"name": "n" * 51, "description": "x", "value": CANARY})
    html = response.content.decode()
    assert response.status_code == 400
    assert "at most 50 characters" in html and 'value="' + "n" * 51 + '"' in html
    assert 'name="value"' in html
    assert_nowhere(response, watched_logs)
    assert not SecretRecord.objects.exists()


def test_a_value_too_long_is_refused_without_echoing_it(root_client: Client, mint_settings, watched_logs) -> None:
    response = root_client.post(SECRETS, {"name": "long", "value": CANARY * 200})
    assert response.status_code == 400
    assert "at most 4000 characters" in response.content.decode()
    assert_nowhere(response, watched_logs)


def test_when_mint_fails_the_value_appears_in_no_page_log_or_audit(root_client: Client, sandbox, mint_settings,
                                                                   watched_logs) -> None:
    sandbox.add_fault(path="^/mint/secrets$", method="POST", status=500)
    response = root_client.post(SECRETS, {"name": unique("key"), "value": CANARY})
    assert response.status_code in (502, 503)
    assert "Mint is unavailable" in response.content.decode()
    assert AuditEvent.objects.get(action="secret.create").outcome in ("failed", "unknown")
    assert_nowhere(response, watched_logs)


def test_updating_a_secret_keeps_the_value_unless_a_new_one_is_typed(root_client: Client, mint_settings,
                                                                     watched_logs) -> None:
    name = unique("token")
    root_client.post(SECRETS, {"name": name, "value": "first"})
    record = SecretRecord.objects.get(name=name)
    edit = reverse("workflows:secret_edit", kwargs={"secret_id": record.id})
    form = root_client.get(edit).content.decode()
    assert f'value="{name}"' in form and "Leave empty to keep the current value" in form

    response = root_client.post(edit, {"name": name, "description": "Rotated", "value": ""}, follow=True)
    assert f"Updated secret “{name}”." in response.content.decode()
    assert AuditEvent.objects.filter(action="secret.update").latest("id").detail["value_changed"] is False
    response = root_client.post(edit, {"name": name, "description": "Rotated", "value": CANARY}, follow=True)
    assert f"Updated secret “{name}” and its value." in response.content.decode()
    assert AuditEvent.objects.filter(action="secret.update").latest("id").detail["value_changed"] is True
    assert SecretRecord.objects.get(pk=record.id).description == "Rotated"
    assert_nowhere(response, watched_logs)


def test_only_those_who_manage_every_workflow_may_manage_secrets(client: Client, case_handler: User,
                                                                 operator: User, admin: User) -> None:
    for user in (case_handler, operator):
        client.force_login(user)
        assert client.get(SECRETS).status_code == 403
        assert client.post(SECRETS, {"name": "x", "value": CANARY}).status_code == 403
    client.force_login(admin)
    assert client.get(SECRETS).status_code == 200
