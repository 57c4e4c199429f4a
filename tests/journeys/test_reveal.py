"""Revealing a journey's personal data: a reason, one audit event, clear values for ten minutes, and refusals
for a missing reason (400), a missing right (403) and a journey out of sight (404)."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from privacy.models import PersonalDataDeclaration, RevealGrant
from tests.clock import Clock
from tests.journeys.conftest import make_journey
from tests.journeys.test_page_masking import HTMX, VALUES, Onboarding, leaked, onboarding_journey, privacy_officer
from tests.personas import WF_OUTSIDE
from tests.sandbox.helpers import Api

pytestmark = pytest.mark.django_db
REASON = "Customer called about case 4711"


@pytest.fixture
def onboarding(api: Api, mint_settings) -> Onboarding:
    return onboarding_journey(api)


@pytest.fixture
def officer_client(client: Client, scoped_workflows) -> Client:
    client.force_login(privacy_officer())
    return client


def reveals(journey_id: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(journey_id=journey_id, action="journey.reveal"))


def test_a_user_who_may_reveal_sees_masks_until_they_reveal_then_clear_values(officer_client: Client,
                                                                             onboarding: Onboarding) -> None:
    before = officer_client.get(onboarding.url).content.decode()
    assert leaked(before) == []
    assert "Reveal personal data" in before and f'action="{onboarding.reveal_url}"' in before
    assert '<label for="id_reveal_reason">' in before

    response = officer_client.post(onboarding.reveal_url, {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == onboarding.url
    after = officer_client.get(onboarding.url).content.decode()
    assert leaked(after) == list(VALUES)
    assert RevealGrant.objects.filter(journey_id=onboarding.journey_id).count() == 1
    assert re.search(r"Personal data shown until \d\d:\d\d \w+</strong>", after)
    assert f"(reason: {REASON})" in after
    assert "Reveal personal data</summary>" not in after


def test_each_reveal_is_one_audit_event_without_any_value(officer_client: Client, onboarding: Onboarding) -> None:
    officer_client.post(onboarding.reveal_url, {"reason": REASON})
    officer_client.post(onboarding.reveal_url, {"reason": REASON}, **HTMX)
    events = reveals(onboarding.journey_id)
    assert len(events) == 2
    for event in events:
        assert event.outcome == AuditEvent.Outcome.OK and event.workflow_id == onboarding.workflow_id
        written = event.summary + json.dumps(event.detail)
        assert leaked(written) == []
        assert event.detail["reason"] == REASON
        assert sorted(event.detail["fields"]) == sorted([
            "steps.details.address", "steps.details.email", "steps.details.phone", "steps.login.birthDate",
            "steps.login.name", "steps.login.nationalId"])


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_reveal_without_a_reason_is_refused_beside_the_field_and_reveals_nothing(
    officer_client: Client, onboarding: Onboarding, reason: str,
) -> None:
    response = officer_client.post(onboarding.reveal_url, {"reason": reason})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_reveal_reason_error"' in html and "Say why you need to see this person&#x27;s data" in html
    region = officer_client.post(onboarding.reveal_url, {"reason": reason}, **HTMX)
    assert region.status_code == 400 and region.content.decode().strip().startswith('<section id="journey-reveal"')
    assert "Say why you need" in region.content.decode()
    assert not RevealGrant.objects.exists() and reveals(onboarding.journey_id) == []
    assert leaked(officer_client.get(onboarding.url).content.decode()) == []


def test_a_reason_over_500_characters_is_refused(officer_client: Client, onboarding: Onboarding) -> None:
    assert officer_client.post(onboarding.reveal_url, {"reason": "x" * 501}).status_code == 400
    assert not RevealGrant.objects.exists()


def test_a_forged_reveal_without_the_right_is_403_audited_as_refused_and_reveals_nothing(
    client: Client, case_handler: User, onboarding: Onboarding,
) -> None:
    client.force_login(case_handler)
    assert "Reveal personal data" not in client.get(onboarding.url).content.decode()
    assert client.post(onboarding.reveal_url, {"reason": REASON}).status_code == 403
    assert not RevealGrant.objects.exists()
    refused = AuditEvent.objects.get(journey_id=onboarding.journey_id, outcome=AuditEvent.Outcome.REFUSED)
    assert refused.detail == {"route": "journeys:reveal", "status": 403}
    assert not AuditEvent.objects.filter(outcome=AuditEvent.Outcome.OK, action="journey.reveal").exists()
    assert leaked(client.get(onboarding.url).content.decode()) == []


def test_a_reveal_of_a_journey_out_of_sight_is_not_found(officer_client: Client) -> None:
    make_journey("outside-reveal", workflow_id=WF_OUTSIDE)
    url = reverse("journeys:reveal", kwargs={"journey_id": "outside-reveal"})
    assert officer_client.post(url, {"reason": REASON}).status_code == 404
    assert not RevealGrant.objects.exists()


def test_a_journey_without_declared_fields_offers_no_reveal(officer_client: Client, onboarding: Onboarding) -> None:
    assert "Reveal personal data" in officer_client.get(onboarding.url).content.decode()
    PersonalDataDeclaration.objects.all().delete()
    assert "Reveal personal data" not in officer_client.get(onboarding.url).content.decode()


def test_a_reveal_is_only_a_post(officer_client: Client, onboarding: Onboarding) -> None:
    assert officer_client.get(onboarding.reveal_url).status_code == 405


def test_a_reveal_ends_after_ten_minutes(officer_client: Client, onboarding: Onboarding, clock: Clock) -> None:
    officer_client.post(onboarding.reveal_url, {"reason": REASON})
    clock.advance(9 * 60)
    assert leaked(officer_client.get(onboarding.url).content.decode()) == list(VALUES)
    clock.advance(61)
    html = officer_client.get(onboarding.url).content.decode()
    assert leaked(html) == []
    assert "Personal data shown until" not in html and "Reveal personal data" in html
