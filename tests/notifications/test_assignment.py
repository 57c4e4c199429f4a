"""A case assigned by someone else is mailed to the assignee alone, once; taking a case oneself mails nobody."""

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


def test_an_assignment_is_mailed_to_the_assignee_only_and_once(
    smtp: SmtpServer, approver: User, approver2: User, admin: User, clock: Clock
) -> None:
    # The digest: no mail per new case, so only the assignment is mailed (at once, as it concerns them alone).
    for person in (approver, approver2, admin):
        listen(person, Mode.DIGEST)
    journey = waiting("j-assigned", WF_INSIDE, ("check", APPROVAL_STEP), name="Loan 7")
    Claim.objects.create(journey=journey, step_id="check", user=approver, assigned_by=admin, claimed_at=clock.now)
    taken = waiting("j-taken", WF_INSIDE, ("check", APPROVAL_STEP))
    Claim.objects.create(journey=taken, step_id="check", user=approver2, assigned_by=approver2, claimed_at=clock.now)
    assert notifications_send() == 1
    assert notifications_send() == 0
    (received,) = smtp.messages()
    assert received.rcpt_tos == ("approver@example.test",)
    assert received.subject == "Assigned to you: Loan 7"
    assert "https://portal.example.test/journeys/j-assigned" in received.body


def test_no_assignment_mail_for_someone_who_turned_mails_off_or_for_assignments_before_they_listened(
    smtp: SmtpServer, approver: User, approver2: User, admin: User, clock: Clock
) -> None:
    listen(approver, Mode.OFF)
    listen(approver2, Mode.DIGEST, since=clock.now)
    old = waiting("j-old", WF_INSIDE, ("check", APPROVAL_STEP))
    Claim.objects.create(journey=old, step_id="check", user=approver2, assigned_by=admin,
                         claimed_at=clock.now - timedelta(minutes=5))
    off = waiting("j-off", WF_INSIDE, ("check", APPROVAL_STEP))
    Claim.objects.create(journey=off, step_id="check", user=approver, assigned_by=admin, claimed_at=clock.now)
    assert notifications_send() == 0
    assert smtp.messages() == []
