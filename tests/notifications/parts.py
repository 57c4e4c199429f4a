"""Helpers of the notification tests: work in the journey mirror, people's notification choices, and reading
the mails the SMTP server received."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from journeys.models import Journey, JourneyStatus, WaitingStep
from notifications.models import Mode, NotificationPreference
from tests.smtp_server import Received

LINK = re.compile(r"/journeys/([^\s/]+)\s")
STEP = re.compile(r"^Step: +.*\((.+)\)$", re.MULTILINE)


def listen(user: User, mode: Mode, *, since: datetime | None = None, email: str = "") -> NotificationPreference:
    """Gives ``user`` an address and the notification ``mode``, listening from ``since`` (an hour ago by default)."""
    user.email = email or f"{user.username}@example.test"
    user.save(update_fields=["email"])
    start = since or timezone.now() - timedelta(hours=1)
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"mode": mode, "watch_from": start, "updated_at": start},
    )
    return preference


def waiting(journey_id: str, workflow_id: str, *steps: tuple[str, str], since: datetime | None = None,
            name: str = "", status: str = JourneyStatus.ACTIVE) -> Journey:
    """A mirror row of a journey waiting since ``since`` (now by default) on ``steps`` ((step id, type) pairs)."""
    now = timezone.now()
    journey = Journey.objects.create(
        id=journey_id, workflow_id=workflow_id, workflow_name=f"Workflow {workflow_id}", version=1, status=status,
        name=name or f"Case {journey_id}", seen_at=now, waiting_since=since or now, pending_steps=bool(steps),
        detail_seen_at=now, last_executed_at=since or now,
    )
    WaitingStep.objects.bulk_create(
        WaitingStep(journey=journey, step_id=step_id, step_type=step_type, position=position)
        for position, (step_id, step_type) in enumerate(steps)
    )
    return journey


def told(messages: list[Received]) -> set[tuple[str, str, str]]:
    """(journey id, step id, recipient) of every new-work mail received."""
    found = set()
    for received in messages:
        journeys = LINK.findall(received.body)
        steps = STEP.findall(received.body)
        assert len(journeys) == len(steps) == 1, received.body
        for recipient in received.rcpt_tos:
            found.add((journeys[0], steps[0], recipient))
    return found
