"""A case handler meets a case a colleague holds, in Chromium: the continue form warns, the server refuses until the
handler confirms, and then the step moves on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from journeys.services.claims import claim_take
from journeys.services.sync import journey_refresh
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.journeys.test_resume_step_form import address_change, start
from tests.personas import make_user
from tests.sandbox.helpers import Api

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_continuing_a_case_a_colleague_holds_needs_a_confirmation(
    browser_page, live_server, case_handler: User, api: Api, mint_settings, sandbox
) -> None:
    page = browser_page
    case = start(api, address_change())
    colleague = make_user("handler2", "Case handlers")
    journey_refresh(journey_id=case["journey_id"])
    claim_take(actor=colleague, journey_id=case["journey_id"])

    login(page, live_server.url, case_handler)
    page.goto(live_server.url + reverse("journeys:detail", kwargs={"journey_id": case["journey_id"]}))
    actions = page.locator("#journey-actions")
    confirm = actions.get_by_label("handler2 holds this case: act on it anyway")
    expect(confirm).to_be_visible()
    expect(confirm).not_to_be_checked()
    actions.get_by_label("Verified").select_option("yes")
    actions.get_by_label("Handled by").fill("handler")

    sandbox.reset_counters()
    actions.get_by_role("button", name="Continue this step").click()
    expect(page.locator("#journey-actions")).to_contain_text("This case is held by handler2; confirm to act anyway",
                                                             timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#flash")).not_to_contain_text("Continued step")
    screenshot(page, "claim-guard-refused")
    assert sandbox.count("resumeJourney") == 0
    assert api.journey(case["journey_id"])["status"] == "active"

    # The refused form comes back with the answers as typed; only the confirmation is missing.
    actions = page.locator("#journey-actions")
    expect(actions.get_by_label("Handled by")).to_have_value("handler")
    actions.get_by_label("handler2 holds this case: act on it anyway").check()
    actions.get_by_role("button", name="Continue this step").click()
    expect(page.locator("#flash")).to_contain_text("Continued step “verify”; the journey is now finished.",
                                                   timeout=LIVE_TIMEOUT_MS)
    screenshot(page, "claim-guard-confirmed")
    assert sandbox.count("resumeJourney") == 1
