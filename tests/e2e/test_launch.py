"""An operator launches a journey in real Chromium; a real Celery worker starts it in the sandbox; the end user
completes it on the sandbox's page; the portal shows the journey moving on. Screens go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step, unique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_launches_a_journey_that_the_end_user_completes(
    browser_page, live_server, operator: User, api: Api, celery_worker
) -> None:
    definition = chain(
        step("name", "set-name", template="Welcome {{ input.fullName }}"),
        step("details", "form", fields=[{"name": "phone", "label": "Phone number", "type": "text",
                                          "required": True}]),
        step("done", "finish"),
    )
    workflow = api.create_workflow(definition, name=unique("Customer welcome"),
                                   inputParameters=[{"name": "email"}, {"name": "fullName"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    page = browser_page

    login(page, live_server.url, operator)
    page.goto(f"{live_server.url}/launches/new/{workflow['id']}/")
    page.fill("#id_p0", "kari@example.com")
    page.fill("#id_p1", "Kari Nordmann")
    page.select_option("#id_journey_url_ttl_0", "3600")
    screenshot(page, "launch-01-form")
    page.click("#launch-one button[type=submit]")

    # The status region polls until the worker has started the journey, then stops.
    expect(page.locator("#launch-status")).to_contain_text("The journey has started.", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#launch-status img.qr")).to_be_visible()
    expect(page.locator("#launch-status")).not_to_have_attribute("hx-trigger", "every 1s")
    journey_url = page.locator("#journey-url").input_value()
    assert journey_url.startswith(api.sandbox.root_url + "/journey/")
    screenshot(page, "launch-02-started")

    end_user = page.context.new_page()
    end_user.goto(journey_url)
    end_user.fill("input[name=phone]", "+47 912 34 567")
    screenshot(end_user, "launch-03-sandbox-end-user-form")
    end_user.click("button[type=submit]")
    # The sandbox answers with the journey's next page; closing the tab while that navigation was still in flight
    # could leave Playwright waiting for ever on the closing page.
    expect(end_user.locator("input[name=phone]")).to_have_count(0)
    end_user.close()

    page.click("#launch-status a:text('Open the journey')")
    expect(page.locator("#journey-status h1")).to_contain_text("Welcome Kari Nordmann")
    expect(page.locator("#journey-status .badge")).to_have_text("Finished", timeout=LIVE_TIMEOUT_MS)
    screenshot(page, "launch-04-journey-finished")
