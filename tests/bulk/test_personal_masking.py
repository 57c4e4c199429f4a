"""A bulk action's dry run page, its job page and its results CSV never show a journey's declared personal values in
clear (the names kept for its items included), whoever reads them."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulk.models import BulkItem, JobStatus, Verdict
from journeys.models import APPROVAL_STEP, Journey, JourneyStatus, WaitingStep
from privacy.masking import pseudonymise
from privacy.models import PersonalDataDeclaration
from tests.bulk.conftest import prepare
from tests.personal_values import DECLARED, FIELDS, KARI, PEOPLE, Person
from tests.personas import WF_INSIDE

pytestmark = pytest.mark.django_db

def leaks(text: str, person: Person) -> list[str]:
    """Which of the person's values the text holds (by label, never the value)."""
    folded = text.casefold()
    return [label for label, value in person.labelled() if value.casefold() in folded]


@pytest.fixture
def declared(scoped_workflows) -> None:
    PersonalDataDeclaration.objects.create(workflow_id=WF_INSIDE, version=1, fields=DECLARED,
                                           updated_at=timezone.now())


def onboarding(person: Person, *, stored_in_clear: bool = False) -> Journey:
    """A mirror row of the person's onboarding waiting for approval: its data as the mirror keeps it (markers), or,
    with ``stored_in_clear``, as a row written before its workflow's declaration."""
    now = timezone.now()
    journey = Journey.objects.create(
        id=f"j-{uuid.uuid4().hex[:12]}", workflow_id=WF_INSIDE, workflow_name="Onboarding", version=1,
        status=JourneyStatus.ACTIVE, name=f"Onboarding – {person.name}", seen_at=now, waiting_since=now,
        pending_steps=True, detail_seen_at=now, last_executed_at=now,
        data=person.data() if stored_in_clear else pseudonymise(person.data(), FIELDS))
    WaitingStep.objects.create(journey=journey, step_id="check", step_type=APPROVAL_STEP, position=0)
    return journey


def pages(user: User, job_id: uuid.UUID) -> tuple[str, str]:
    client = Client()
    client.force_login(user)
    page = client.get(reverse("bulk:job", args=[job_id]))
    results = client.get(reverse("bulk:results", args=[job_id]))
    assert page.status_code == 200 and results.status_code == 200
    return page.content.decode(), b"".join(results.streaming_content).decode("utf-8-sig")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=PEOPLE, in_clear=st.booleans())
def test_the_dry_run_page_and_the_results_show_no_personal_value(declared, approver, person: Person,
                                                                  in_clear: bool) -> None:
    journey = onboarding(person, stored_in_clear=in_clear)
    approver = User.objects.get(pk=approver.pk)

    job = prepare(approver, "approve", [journey], reason="Checked")
    page, results = pages(approver, job.id)

    assert job.status == JobStatus.DRAFT and job.will_act == 1
    listed = journey.id in page and journey.id in results
    assert listed
    stored = " ".join(BulkItem.objects.filter(job=job).values_list("journey_name", flat=True))
    page_leaks, results_leaks, stored_leaks = leaks(page, person), leaks(results, person), leaks(stored, person)
    assert page_leaks == [] and results_leaks == [] and stored_leaks == []


def test_the_results_show_the_masked_name_in_the_name_column(declared, approver) -> None:
    journey = onboarding(KARI)
    approver = User.objects.get(pk=approver.pk)
    job = prepare(approver, "approve", [journey], reason="Checked")

    page, results = pages(approver, job.id)

    rows = list(csv.DictReader(io.StringIO(results)))
    assert [(row["journey_id"], row["name"], row["verdict"]) for row in rows] == [
        (journey.id, "Onboarding – K*** N***", Verdict.WILL_ACT)]
    assert "Onboarding – K*** N***" in page


def test_an_item_kept_with_its_name_in_clear_is_shown_masked(declared, approver) -> None:
    journey = onboarding(KARI)
    approver = User.objects.get(pk=approver.pk)
    job = prepare(approver, "approve", [journey], reason="Checked")
    # As an item written before the portal masked names kept it.
    BulkItem.objects.filter(job=job).update(journey_name=journey.name,
                                            outcome=f"Mint refused: {KARI.national_id} is taken")

    page, results = pages(approver, job.id)

    assert leaks(page, KARI) == [] and leaks(results, KARI) == []
    assert "Onboarding – K*** N***" in page


def test_the_audit_trail_keeps_no_bulk_reason(declared, approver) -> None:
    from accounts.models import AuditEvent

    journey = onboarding(KARI)
    approver = User.objects.get(pk=approver.pk)
    prepare(approver, "reject", [journey], reason=f"{KARI.name} withdrew")

    (event,) = AuditEvent.objects.filter(action="bulk.create")
    assert leaks(f"{event.summary} {event.detail}", KARI) == []
    assert event.detail["reason_length"] == len(f"{KARI.name} withdrew")
