"""The daily digest: after its hour, one mail per person who chose it, listing the new work they were not told
about; nothing before the hour, nothing twice, and the next day only what arrived since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from journeys.models import APPROVAL_STEP, SUSPEND_STEP
from notifications.models import Mode
from notifications.services import notification_digests_send, notifications_send
from tests.clock import Clock
from tests.notifications.parts import listen, waiting
from tests.personas import WF_INSIDE, WF_OUTSIDE
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db

# The number of digest mails this scenario sends over two days (reported with the issue).
DIGEST_MAILS = 5


def test_the_digest_lists_each_persons_new_work_once_a_day(
    smtp: SmtpServer, approver: User, approver2: User, case_handler: User, admin: User, clock: Clock, settings
) -> None:
    settings.NOTIFICATIONS_DIGEST_HOUR = 8
    clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    for person in (approver, approver2, case_handler):
        listen(person, Mode.DIGEST, since=clock.now)
    listen(admin, Mode.OFF, since=clock.now)
    clock.now = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    for number in range(3):
        waiting(f"approve-{number}", WF_INSIDE, ("check", APPROVAL_STEP))
    for number in range(2):
        waiting(f"continue-{number}", WF_INSIDE, ("hold", SUSPEND_STEP))
    waiting("outside", WF_OUTSIDE, ("check", APPROVAL_STEP))

    clock.now = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    # Before the hour no digest, and people who chose the digest get no mail per case.
    assert notification_digests_send() == 0
    assert notifications_send() == 0

    clock.now = datetime(2026, 12, 3, 8, 5, tzinfo=UTC)
    assert notification_digests_send() == 3
    first = {received.rcpt_tos: received for received in smtp.messages()}
    assert set(first) == {("approver@example.test",), ("approver2@example.test",), ("handler@example.test",)}
    assert first[("approver@example.test",)].subject == "3 new cases waiting for you"
    assert first[("handler@example.test",)].subject == "2 new cases waiting for you"
    body = first[("approver@example.test",)].body
    assert all(f"https://portal.example.test/journeys/approve-{number}" in body for number in range(3))
    assert "continue-" not in body and "outside" not in body
    assert "Waiting:  1 h 5 min" in body

    clock.now = datetime(2026, 12, 3, 8, 20, tzinfo=UTC)
    assert notification_digests_send() == 0
    clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    waiting("approve-late", WF_INSIDE, ("check", APPROVAL_STEP))
    clock.now = datetime(2026, 12, 3, 9, 10, tzinfo=UTC)
    assert notification_digests_send() == 0

    # The next day: only what arrived since the last digest, and no mail for someone with nothing new.
    clock.now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert notification_digests_send() == 2
    second = smtp.messages()[3:]
    assert sorted(received.rcpt_tos for received in second) == [("approver2@example.test",),
                                                                 ("approver@example.test",)]
    assert all(received.subject == "1 new case waiting for you" for received in second)
    assert all("approve-late" in received.body and "approve-0" not in received.body for received in second)
    # Hours after the digest hour a missed digest is no longer sent that day.
    clock.now = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    waiting("approve-afternoon", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(hours=1))
    assert notification_digests_send() == 0
    assert len(smtp.messages()) == DIGEST_MAILS
