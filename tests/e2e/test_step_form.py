"""A case handler continues the address change through its form in Chromium; an empty submit names the fields."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.journeys.test_resume_step_form import address_change, start
from tests.sandbox.helpers import Api

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_handler_continues_the_address_change_through_its_form(
    browser_page, live_server, case_handler: User, api: Api, mint_settings, sandbox
) -> None:
    page = browser_page
    case = start(api, address_change())
    login(page, live_server.url, case_handler)
    page.goto(live_server.url + reverse("journeys:detail", kwargs={"journey_id": case["journey_id"]}))
    actions = page.locator("#journey-actions")
    expect(actions.get_by_label("Verified")).to_be_visible()
    expect(actions.get_by_label("Handled by")).to_be_visible()
    expect(actions.locator("textarea")).to_have_count(0)

    sandbox.reset_counters()
    actions.get_by_role("button", name="Continue this step").click()
    expect(actions.locator(".field-error")).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
    expect(actions).to_contain_text("“Verified” is required.")
    expect(actions).to_contain_text("“Handled by” is required.")
    screenshot(page, "step-form-empty-submit")
    assert sandbox.count("resumeJourney") == 0
    assert api.journey(case["journey_id"])["status"] == "active"

    page.locator("#journey-actions").get_by_label("Verified").select_option("yes")
    page.locator("#journey-actions").get_by_label("Handled by").fill("handler")
    page.locator("#journey-actions").get_by_role("button", name="Continue this step").click()
    expect(page.locator("#flash")).to_contain_text("Continued step “verify”; the journey is now finished.",
                                                   timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#journey-status .badge")).to_have_text("Finished")
    screenshot(page, "step-form-continued")
    assert api.journey(case["journey_id"])["stepData"]["verify"] == {"verified": True, "handledBy": "handler"}


def test_an_admin_relabels_a_field_and_the_handler_sees_it(
    browser_page, live_server, admin: User, case_handler: User, api: Api, mint_settings
) -> None:
    page = browser_page
    case = start(api, address_change())
    workflow = case["workflow"]
    login(page, live_server.url, admin)
    page.goto(live_server.url + reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]}))
    page.locator("#manual-steps").get_by_role("link", name="Form of Verify proof of address").click()
    expect(page.locator("h1")).to_contain_text("Form of “Verify proof of address”")
    page.locator("#field-2").get_by_label("Label").fill("Your initials")
    screenshot(page, "step-form-editor")
    page.get_by_role("button", name="Save the form").click()
    expect(page.locator("#flash")).to_contain_text("Saved the form of “verify”", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator(".lede + .muted")).to_contain_text("Saved for version")

    page.context.clear_cookies()
    login(page, live_server.url, case_handler)
    page.goto(live_server.url + reverse("journeys:detail", kwargs={"journey_id": case["journey_id"]}))
    expect(page.locator("#journey-actions").get_by_label("Your initials")).to_be_visible()
