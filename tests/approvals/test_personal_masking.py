"""The inbox and the decision panel never show a declared personal value of a journey in clear: not in its name,
step data, launch input, alerts, file names, notes or the approvers' reasons; only a user who revealed the journey
on its page sees the panel in clear, while the reveal lasts, and the inbox stays masked even for them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from approvals.models import ApprovalVote
from journeys.models import Journey
from journeys.services.sync import journey_refresh
from launches.models import Launch, LaunchStatus
from mintportal.mint import MintClient, models
from privacy import kinds
from privacy.models import PersonalDataDeclaration, RevealGrant
from tests.mint_parts import link, step
from tests.personal_values import DECLARED, KARI, PEOPLE, Person
from tests.personas import place_workflow

pytestmark = pytest.mark.django_db

def leaks(page: str, person: Person) -> list[str]:
    """Which of the person's values the page holds (by label, never the value)."""
    folded = page.casefold()
    return [label for label, value in person.labelled() if value.casefold() in folded]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


@pytest.fixture
def onboarding(mint: MintClient) -> str:
    """A workflow like the demo's onboarding, with manual steps standing in for the eID login and the form (their
    answers become the step data), and its personal data declared; in the approvers' scope."""
    workflow = mint.create_workflow(models.WorkflowInput(
        name=f"Onboarding {uuid.uuid4().hex[:8]}",
        steps=[
            step("login", "suspend"), step("details", "suspend"),
            step("name", "set-name", template="Onboarding – {{ steps.login.name }}"),
            step("flag", "trigger-alert", severity="warning",
                 message="Check {{ steps.login.nationalId }} and {{ steps.details.phone }}"),
            step("doc", "generate-document", filename="{{ steps.login.name }}.txt", content="Summary"),
            step("check", "require-approval"), step("end", "finish"),
        ],
        connections=[link("login", "details"), link("details", "name"), link("name", "flag"), link("flag", "doc"),
                     link("doc", "check"), link("check", "end", "Approved"), link("check", "end", "Rejected")],
        input_parameters=[models.WorkflowInputParameter(name="customerName")],
    ))
    place_workflow(workflow.id, tags=["onboarding"], name=workflow.name or "")
    PersonalDataDeclaration.objects.create(workflow_id=workflow.id, version=workflow.version or 1, fields=DECLARED,
                                           updated_at=timezone.now())
    return workflow.id


@pytest.fixture
def onboard(mint: MintClient, onboarding: str, operator: User, approver2: User) -> Callable[[Person], Journey]:
    """Runs one person's onboarding up to its approval, launched by the operator through the portal, with a note
    and an approver's reason naming them; returns the mirror row."""

    def run(person: Person) -> Journey:
        started = mint.start_journey(onboarding, input={"customerName": person.customer_name})
        journey_id = started.journey_id
        Launch.objects.create(key=f"test-{journey_id}", workflow_id=onboarding, input={
            "customerName": person.customer_name}, journey_url_ttl=60, status=LaunchStatus.STARTED,
            created_by=operator, created_at=timezone.now(), journey_id=journey_id)
        mint.resume_journey(journey_id, step_id="login", input={"nationalId": person.national_id,
                                                                "name": person.name})
        mint.resume_journey(journey_id, step_id="details", input={"email": person.email, "phone": person.phone})
        mint.create_journey_note(journey_id, content=f"Called {person.name} on {person.phone}", step_id="check")
        ApprovalVote.objects.create(journey_id=journey_id, step_id="check", occurrence=1, workflow_id=onboarding,
                                    user=approver2, username=approver2.username, at=timezone.now(),
                                    reason=f"{person.name} ({person.national_id}) showed a passport")
        assert journey_refresh(journey_id=journey_id) is not None
        return Journey.objects.get(pk=journey_id)

    return run


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=PEOPLE)
def test_the_inbox_and_the_panel_show_no_personal_value(onboard, approver, person: Person) -> None:
    journey = onboard(person)
    # Only this example's journey waits (the inbox's first page would not show it behind 25 older ones).
    Journey.objects.exclude(pk=journey.id).delete()
    client = signed_in(approver)

    inbox = client.get("/approvals/")
    panel = client.get(f"/approvals/{journey.id}/decide")

    assert inbox.status_code == 200 and panel.status_code == 200
    listed = journey.id in inbox.content.decode()
    assert listed
    inbox_leaks, panel_leaks = leaks(inbox.content.decode(), person), leaks(panel.content.decode(), person)
    assert inbox_leaks == [] and panel_leaks == []


def test_the_panel_shows_masks_where_the_values_were(onboard, approver) -> None:
    journey = onboard(KARI)

    panel = signed_in(approver).get(f"/approvals/{journey.id}/decide", headers={"HX-Request": "true"})
    page = panel.content.decode()

    assert leaks(page, KARI) == []
    # The journey's name, step data, launch input, alert, file, note and the vote's reason: there, and masked.
    assert "Onboarding – K*** N***" in page and '&quot;customerName&quot;: &quot;K*** N***&quot;' in page
    for kind, value in ((kinds.NATIONAL_ID, KARI.national_id), (kinds.EMAIL, KARI.email),
                        (kinds.PHONE, KARI.phone)):
        assert kinds.mask(kind, value) in page, kind
    assert "K*** N***.txt" in page
    assert '<div class="note-body">Called ' in page and "<q>" in page


def test_a_revealed_journey_shows_in_clear_in_the_panel_but_not_in_the_inbox(onboard, admin) -> None:
    journey = onboard(KARI)
    now = timezone.now()
    RevealGrant.objects.create(user=admin, journey_id=journey.id, workflow_id=journey.workflow_id,
                               reason="Customer asked", fields=[], granted_at=now,
                               expires_at=now + timedelta(minutes=10))
    client = signed_in(admin)

    panel = client.get(f"/approvals/{journey.id}/decide").content.decode()
    inbox = client.get("/approvals/").content.decode()

    assert set(leaks(panel, KARI)) >= {"nationalId", "email", "phone", "name"}
    assert journey.id in inbox and leaks(inbox, KARI) == []


def test_an_expired_reveal_shows_the_panel_masked_again(onboard, admin) -> None:
    journey = onboard(KARI)
    now = timezone.now()
    RevealGrant.objects.create(user=admin, journey_id=journey.id, workflow_id=journey.workflow_id,
                               reason="Customer asked", fields=[], granted_at=now - timedelta(minutes=20),
                               expires_at=now - timedelta(minutes=10))

    panel = signed_in(admin).get(f"/approvals/{journey.id}/decide").content.decode()

    assert leaks(panel, KARI) == []


def test_the_audit_trail_keeps_an_approvers_reason_masked(onboard, approver) -> None:
    from accounts.models import AuditEvent

    journey = onboard(KARI)
    response = signed_in(approver).post(f"/approvals/{journey.id}/decide", {
        "step_id": "check", "occurrence": "1", "decision": "reject",
        "reason": f"{KARI.name} gave {KARI.national_id}, not theirs"}, headers={"HX-Request": "true"})

    assert response.status_code in (200, 286), response.status_code
    events = list(AuditEvent.objects.filter(journey_id=journey.id).values_list("summary", "detail"))
    assert events
    trail = " ".join(f"{summary} {detail}" for summary, detail in events)
    assert leaks(trail, KARI) == []
    assert kinds.mask(kinds.NATIONAL_ID, KARI.national_id) in trail
