"""The claim mappings in the Django admin: for those who manage access, and every change audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import AuditEvent
from sso.models import ClaimMapping
from tests.personas import PASSWORD, team

pytestmark = pytest.mark.django_db


def test_an_admin_maps_a_claim_value_to_a_team_and_it_is_audited(client: Client, admin: User) -> None:
    handlers = team("Case handlers")
    client.force_login(admin)
    response = client.post("/admin/sso/claimmapping/add/", {"claim_value": "acme-handlers", "team": handlers.pk})
    assert response.status_code == 302, response.content
    mapping = ClaimMapping.objects.get()
    assert (mapping.claim_value, mapping.team) == ("acme-handlers", handlers)
    response = client.post(f"/admin/sso/claimmapping/{mapping.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    events = AuditEvent.objects.filter(action__startswith="access.sso_mapping.").order_by("id")
    assert [(event.action, event.actor_username) for event in events] == [
        ("access.sso_mapping.create", "admin"), ("access.sso_mapping.delete", "admin")]
    assert events[0].detail["state"] == {"claim_value": "acme-handlers", "team": "Case handlers"}


def test_staff_without_the_manage_access_right_cannot_see_the_mappings(client: Client, case_handler: User) -> None:
    case_handler.is_staff = True
    case_handler.save()
    client.login(username="handler", password=PASSWORD)
    assert client.get("/admin/sso/claimmapping/").status_code == 403
    response = client.post("/admin/sso/claimmapping/add/", {"claim_value": "x", "team": team("Admins").pk})
    assert response.status_code == 403
    assert not ClaimMapping.objects.exists()
