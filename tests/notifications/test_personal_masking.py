"""No mail carries a journey's declared personal values in clear: not its subject, not its body, whether it tells of
new work at once, an assignment or a day's digest (a journey's name often holds the customer's name)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Claim, Journey
from notifications.models import Mode
from notifications.services import notification_digests_send, notifications_send
from privacy.masking import pseudonymise
from privacy.models import PersonalDataDeclaration
from tests.clock import Clock
from tests.notifications.parts import listen, waiting
from tests.personal_values import DECLARED, FIELDS, KARI, PEOPLE, Person
from tests.personas import WF_INSIDE
from tests.smtp_server import Received, SmtpServer

pytestmark = pytest.mark.django_db

def leaks(mails: list[Received], person: Person) -> list[str]:
    """Which of the person's values the mails hold, in a subject or a body (by label, never the value)."""
    folded = " ".join(f"{mail.subject}\n{mail.body}" for mail in mails).casefold()
    return [label for label, value in person.labelled() if value.casefold() in folded]


@pytest.fixture
def declared(scoped_workflows) -> None:
    PersonalDataDeclaration.objects.create(workflow_id=WF_INSIDE, version=1, fields=DECLARED,
                                           updated_at=timezone.now())


def onboarding(person: Person, *steps: tuple[str, str]) -> Journey:
    """The person's onboarding in the mirror (named after them, as the demo's set-name step does), waiting on
    ``steps``, its data as the mirror keeps it."""
    journey = waiting(f"j-{uuid.uuid4().hex[:12]}", WF_INSIDE, *steps, name=f"Onboarding – {person.name}")
    Journey.objects.filter(pk=journey.pk).update(data=pseudonymise(person.data(), FIELDS))
    return journey


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=PEOPLE)
def test_a_mail_about_new_work_shows_no_personal_value(smtp: SmtpServer, declared, approver: User,
                                                       person: Person) -> None:
    smtp.clear()
    listen(approver, Mode.IMMEDIATE, since=timezone.now() - timedelta(minutes=5))
    journey = onboarding(person, ("check", APPROVAL_STEP))

    assert notifications_send() >= 1

    mails = [mail for mail in smtp.messages() if journey.id in mail.body]
    assert len(mails) == 1
    found = leaks(mails, person)
    assert found == []
    named = "Onboarding – " in mails[0].subject
    assert named


def test_a_mail_names_the_journey_by_its_masked_name(smtp: SmtpServer, declared, approver: User) -> None:
    listen(approver, Mode.IMMEDIATE, since=timezone.now() - timedelta(minutes=5))
    onboarding(KARI, ("check", APPROVAL_STEP))

    assert notifications_send() == 1

    (mail,) = smtp.messages()
    assert leaks([mail], KARI) == []
    assert mail.subject.startswith("New work: Onboarding – K*** N***")
    assert "Journey:  Onboarding – K*** N***" in mail.body


def test_an_assignment_mail_shows_no_personal_value(smtp: SmtpServer, declared, case_handler: User,
                                                    admin: User) -> None:
    listen(case_handler, Mode.IMMEDIATE, since=timezone.now() - timedelta(minutes=5))
    journey = onboarding(KARI, ("hold", SUSPEND_STEP))
    Claim.objects.create(journey=journey, step_id="hold", user=case_handler, assigned_by=admin,
                         claimed_at=timezone.now())

    assert notifications_send() >= 1

    mails = smtp.messages()
    assert any(mail.subject.startswith("Assigned to you: Onboarding – K*** N***") for mail in mails)
    assert leaks(mails, KARI) == []


def test_a_digest_shows_no_personal_value(smtp: SmtpServer, declared, approver: User, clock: Clock,
                                          settings) -> None:
    settings.NOTIFICATIONS_DIGEST_HOUR = 8
    clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    listen(approver, Mode.DIGEST, since=clock.now)
    clock.now = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    other = Person(customer_name="Ola Hansen", national_id="01020312345", name="Ola Hansen",
                   email="ola@hansen.test", phone="+4798765432")
    for person in (KARI, other):
        onboarding(person, ("check", APPROVAL_STEP))

    clock.now = datetime(2026, 12, 3, 8, 5, tzinfo=UTC)
    assert notification_digests_send() == 1

    (mail,) = smtp.messages()
    assert mail.subject == "2 new cases waiting for you"
    assert leaks([mail], KARI) == [] and leaks([mail], other) == []
    assert "Journey:  Onboarding – K*** N***" in mail.body and "Journey:  Onboarding – O*** H***" in mail.body
