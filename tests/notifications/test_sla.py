"""An SLA that runs out is mailed once: to the assignee, or, while nobody holds the case, to everyone who may act."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from journeys.models import APPROVAL_STEP, Claim
from notifications.models import Mode
from notifications.services import notifications_send
from tests.clock import Clock
from tests.notifications.parts import listen, waiting
from tests.personas import WF_INSIDE
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db


def recipients(smtp: SmtpServer) -> list[tuple[str, str]]:
    return sorted((received.rcpt_tos[0], received.subject) for received in smtp.messages())


def test_a_breached_sla_is_mailed_once_to_the_people_who_may_act_or_to_the_assignee(
    smtp: SmtpServer, approver: User, approver2: User, case_handler: User, clock: Clock
) -> None:
    # Approvals of WF_INSIDE have an SLA of 24 hours (tests/personas.py). The digest: no mail per new case.
    for person in (approver, approver2, case_handler):
        listen(person, Mode.DIGEST, since=clock.now - timedelta(days=3))
    waiting("j-late", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(hours=25), name="Late one")
    held = waiting("j-held", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(hours=30),
                   name="Held one")
    Claim.objects.create(journey=held, step_id="check", user=approver2, claimed_at=clock.now - timedelta(hours=2))
    waiting("j-soon", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(hours=23), name="Soon")
    assert notifications_send() == 3
    assert recipients(smtp) == [
        ("approver2@example.test", "SLA of 24 h passed: Held one"),
        ("approver2@example.test", "SLA of 24 h passed: Late one"),
        ("approver@example.test", "SLA of 24 h passed: Late one"),
    ]
    assert notifications_send() == 0
    smtp.clear()
    clock.advance(2 * 3600)
    assert notifications_send() == 2
    assert recipients(smtp) == [("approver2@example.test", "SLA of 24 h passed: Soon"),
                                ("approver@example.test", "SLA of 24 h passed: Soon")]
    assert "Waiting:  25 h" in smtp.messages()[0].body


def test_an_sla_that_ran_out_before_someone_listened_is_not_mailed(
    smtp: SmtpServer, approver: User, clock: Clock
) -> None:
    listen(approver, Mode.IMMEDIATE, since=clock.now - timedelta(hours=1))
    waiting("j-backlog", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(days=3))
    assert notifications_send() == 0
    clock.advance(3600)
    assert notifications_send() == 0
    assert smtp.messages() == []
