"""A launch the service refuses is shown on the form with the refusal's status (mintportal.errors.Conflict)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from launches.models import Launch, LaunchStatus

pytestmark = pytest.mark.django_db


def test_a_launch_form_someone_else_used_is_refused_on_the_form_with_409(
    client: Client, operator: User, admin: User, launch_workflow
) -> None:
    key = uuid.uuid4().hex
    Launch.objects.create(key=key, workflow_id=launch_workflow.id, journey_url_ttl=60, status=LaunchStatus.STARTED,
                          created_by=admin, created_at=timezone.now())
    client.force_login(operator)

    response = client.post(reverse("launches:new", args=[launch_workflow.id]),
                           {"key": key, "p0": "a@example.com", "p1": "A", "journey_url_ttl": "60"})

    assert response.status_code == 409
    assert "This launch form was already used by someone else; open a new one." in response.content.decode()
    assert Launch.objects.filter(key=key).count() == 1
