"""The mail log forgets rows whose event cannot come round again, and keeps those that could."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from journeys.models import APPROVAL_STEP, Journey
from notifications.models import Mode, SentMail
from notifications.services import notifications_send, sent_mails_prune
from tests.clock import Clock
from tests.notifications.parts import listen, waiting
from tests.personas import WF_INSIDE
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db


def test_old_rows_of_work_that_stopped_waiting_go_and_still_waiting_work_is_not_mailed_again(
    smtp: SmtpServer, approver: User, clock: Clock
) -> None:
    listen(approver, Mode.IMMEDIATE)
    waiting("j-done", WF_INSIDE, ("check", APPROVAL_STEP))
    waiting("j-still", WF_INSIDE, ("check", APPROVAL_STEP))
    assert notifications_send() == 2
    Journey.objects.filter(pk="j-done").update(status="finished", waiting_since=None)
    assert sent_mails_prune() == 0
    clock.advance(8 * 86400)
    assert sent_mails_prune() == 1
    assert list(SentMail.objects.values_list("journey_id", flat=True)) == ["j-still"]
    # No second new-work mail about j-still; only its SLA (24 hours) has run out meanwhile.
    assert notifications_send() == 1
    subjects = [received.subject.split(":")[0] for received in smtp.messages()]
    assert subjects == ["New work", "New work", "SLA of 24 h passed"]
    clock.advance(timedelta(days=1).total_seconds())
    assert sent_mails_prune() == 0
