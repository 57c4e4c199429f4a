"""A write refused by a view's access check (403, or 404 outside the scope) is an audit event too."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from tests.journeys.conftest import make_journey
from tests.personas import WF_INSIDE, WF_OUTSIDE

pytestmark = pytest.mark.django_db


def _post(user: User, route: str, journey_id: str, data: dict[str, str]) -> int:
    client = Client()
    client.force_login(user)
    return client.post(reverse(route, kwargs={"journey_id": journey_id}), data).status_code


@pytest.mark.parametrize("persona,route,data,status,action", [
    ("approver", "journeys:resume", {"step_id": "review", "input": ""}, 403, "journey.resume"),
    ("operator", "journeys:resume", {"step_id": "review", "input": ""}, 403, "journey.resume"),
    ("case_handler", "approvals:decide", {"step_id": "check", "decision": "approve"}, 403, "journey.approve"),
    ("case_handler", "approvals:decide", {"step_id": "check", "decision": "reject", "reason": "x"}, 403,
     "journey.reject"),
    ("approver", "journeys:url", {"time_to_live": "600"}, 403, "journey.url_create"),
])
def test_a_write_the_role_does_not_allow_is_refused_and_audited(
    request: pytest.FixtureRequest, persona: str, route: str, data: dict, status: int, action: str
) -> None:
    user = request.getfixturevalue(persona)
    make_journey("j-inside", workflow_id=WF_INSIDE, status="active")

    assert _post(user, route, "j-inside", data) == status

    [event] = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED)
    assert (event.action, event.actor_username, event.journey_id) == (action, user.username, "j-inside")
    assert event.detail == {"route": route, "status": status}


def test_a_write_to_a_journey_outside_the_scope_is_audited_without_revealing_it(approver: User) -> None:
    make_journey("j-outside", workflow_id=WF_OUTSIDE, status="active")
    client = Client()
    client.force_login(approver)

    response = client.post(reverse("approvals:decide", kwargs={"journey_id": "j-outside"}),
                           {"step_id": "check", "decision": "approve"})

    assert response.status_code == 404 and WF_OUTSIDE not in response.content.decode()
    [event] = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.REFUSED)
    assert (event.action, event.journey_id, event.detail["status"]) == ("journey.approve", "j-outside", 404)


def test_reading_something_out_of_scope_is_not_a_write_and_records_nothing(approver: User) -> None:
    make_journey("j-outside", workflow_id=WF_OUTSIDE, status="active")
    client = Client()
    client.force_login(approver)

    assert client.get(reverse("journeys:detail", kwargs={"journey_id": "j-outside"})).status_code == 404
    assert not AuditEvent.objects.exists()
