"""A mail about a real journey (started in the sandbox, mirrored as the journey page does) says where to find it,
never what it holds: a value of its input does not appear in the mail."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from journeys.services.sync import journey_refresh
from mintportal.mint import get_client, models
from notifications.models import Mode
from notifications.services import notifications_send
from tests.clock import Clock
from tests.mint_parts import link, step
from tests.notifications.parts import listen
from tests.personas import place_workflow
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db

ACCOUNT = "NO93-8601-1117947"


def test_a_mail_carries_no_journey_data(smtp: SmtpServer, mint_settings, approver: User, clock: Clock) -> None:
    mint = get_client()
    workflow = mint.create_workflow(models.WorkflowInput(
        name=f"Account check {uuid.uuid4().hex[:8]}",
        steps=[step("name", "set-name", template="Check {{ input.case }}"), step("check", "require-approval"),
               step("end", "finish")],
        connections=[link("name", "check"), link("check", "end", "Approved"), link("check", "end", "Rejected")],
        input_parameters=[models.WorkflowInputParameter(name="case"), models.WorkflowInputParameter(name="account")],
    ))
    place_workflow(workflow.id, tags=["onboarding"], name=workflow.name or "")
    listen(approver, Mode.IMMEDIATE, since=clock.now - timedelta(minutes=5))
    started = mint.start_journey(workflow.id, input={"case": "C-17", "account": ACCOUNT})
    assert journey_refresh(journey_id=started.journey_id) is not None
    assert notifications_send() == 1
    (received,) = smtp.messages()
    raw = received.message.as_string()
    assert ACCOUNT not in raw
    assert "Check C-17" in received.subject
    assert (workflow.name or "") in received.body
    assert f"https://portal.example.test/journeys/{started.journey_id}" in received.body
