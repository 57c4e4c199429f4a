"""An officer reveals a journey's personal data with the keyboard alone, in Chromium: the name is masked, an empty
reason is refused with focus on the reason, and a reason shows the name and says until when."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import AuditEvent
from journeys.services.sync import journey_refresh
from privacy.services import declaration_save
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.journeys.test_resume_step_form import address_change, start
from tests.sandbox.helpers import Api

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reveal_by_keyboard_refuses_an_empty_reason_beside_it_then_shows_the_name(
    browser_page, live_server, admin: User, api: Api, mint_settings, sandbox
) -> None:
    page = browser_page
    case = start(api, address_change())
    declaration_save(actor=admin, workflow_id=case["workflow"]["id"], version=1,
                     fields=[{"path": "input.customerName", "kind": "name"}])
    journey_refresh(journey_id=case["journey_id"])

    login(page, live_server.url, admin)
    page.goto(live_server.url + reverse("journeys:detail", kwargs={"journey_id": case["journey_id"]}))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Address change – K*** N***")

    summary = page.locator("#journey-reveal summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Why do you need to see this person's data?")).to_be_visible()
    # From the disclosure: the reason, then the button.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Reveal for 10 minutes")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#journey-reveal")).to_contain_text("Say why", timeout=LIVE_TIMEOUT_MS)
    expect(page.get_by_label("Why do you need to see this person's data?")).to_be_focused()
    assert not AuditEvent.objects.filter(action="journey.reveal").exists()
    screenshot(page, "reveal-refused")

    page.keyboard.type("The customer called about the new address")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Reveal for 10 minutes")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Address change – Kari Nordmann",
                                                                 timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#journey-reveal")).to_contain_text("Personal data shown until")
    screenshot(page, "reveal-shown")
    assert AuditEvent.objects.filter(action="journey.reveal").count() == 1
