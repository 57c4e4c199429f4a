"""The case handler's day in real Chromium: sign in, find journeys, open one, share its URL, let the end user
fill the form in the sandbox's page, watch the journey move on, add a note and continue a suspended step.

Each screen is saved under test-artifacts/screenshots/ for review.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from journeys.services.sync import journey_refresh
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.journeys.conftest import make_journey
from tests.personas import WF_INSIDE, place_workflow
from tests.sandbox.helpers import Api, link, step, unique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def case_workflow(api: Api) -> dict:
    """Names the journey, waits for the end user's form, writes a letter, then waits for a case handler."""
    steps = [
        step("name", "set-name", template="Onboarding {{ input.customer }}"),
        step("details", "form", fields=[{"name": "phone", "label": "Phone number", "type": "text",
                                          "required": True}]),
        step("flag", "trigger-alert", severity="info", message="Phone number given: {{ steps.details.phone }}"),
        step("letter", "generate-document", filename="welcome.txt", format="text",
             content="Welcome, {{ input.customer }}"),
        step("review", "suspend"),
        step("done", "finish"),
    ]
    connections = [link(a["id"], b["id"]) for a, b in itertools.pairwise(steps)]
    workflow = api.create_workflow({"steps": steps, "connections": connections}, name=unique("Onboarding"),
                                   inputParameters=[{"name": "customer"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    return workflow


def test_a_case_handler_signs_in_and_filters_journeys(browser_page, live_server, case_handler: User) -> None:
    page = browser_page
    now = timezone.now()
    for index in range(6):
        make_journey(f"done-{index}", workflow_id=WF_INSIDE, status="finished", name=f"Finished case {index}",
                     created_at=now - timedelta(days=index), last_executed_at=now - timedelta(hours=index))
    for index in range(3):
        make_journey(f"wait-{index}", workflow_id=WF_INSIDE, status="active", name=f"Waiting case {index}",
                     created_at=now - timedelta(days=index), last_executed_at=now - timedelta(hours=index),
                     waiting_since=now - timedelta(hours=index + 1), pending_steps=True)
    make_journey("fault-0", workflow_id=WF_INSIDE, status="faulted", name="Broken case", faulted_at=now,
                 created_at=now, last_executed_at=now, alert_count=1, alert_level=3,
                 alerts=[{"stepId": "x", "severity": "critical", "message": "Registry did not answer"}])

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    screenshot(page, "01-sign-in")
    login(page, live_server.url, case_handler)
    expect(page.locator(".stat.status-active .stat-count")).to_have_text("3")
    screenshot(page, "02-dashboard")

    page.click("nav.mainnav >> text=Journeys")
    expect(page.locator("#journey-table tbody tr")).to_have_count(10)
    page.select_option("#id_status", "active")
    # htmx swaps only the table and keeps the filter in the address bar, so the view is a shareable link.
    expect(page.locator("#journey-table tbody tr")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"status=active"))
    # Waiting since, ascending: the journey waiting longest comes first; a second click reverses it.
    page.click("#journey-table th >> text=Waiting since")
    expect(page.locator("#journey-table tbody tr").first).to_contain_text("Waiting case 2")
    page.click("#journey-table th >> text=Waiting since")
    expect(page.locator("#journey-table tbody tr").first).to_contain_text("Waiting case 0")
    expect(page).to_have_url(re.compile(r"sort=-waiting"))
    page.fill("#id_q", "case 1")
    expect(page.locator("#journey-table tbody tr")).to_have_count(1)
    screenshot(page, "03-journeys-filtered")
    page.reload()
    expect(page.locator("#journey-table tbody tr")).to_have_count(1)
    expect(page.locator("#id_status")).to_have_value("active")


def test_a_case_handler_follows_a_journey_from_shared_url_to_the_end(
    browser_page, live_server, case_handler: User, api: Api, mint_settings
) -> None:
    page = browser_page
    workflow = case_workflow(api)
    started = api.start(workflow["id"], {"customer": "Kari Nordmann"})
    journey_url = live_server.url + reverse("journeys:detail", kwargs={"journey_id": started["journeyId"]})

    login(page, live_server.url, case_handler)
    page.goto(journey_url)
    expect(page.locator("#journey-status h1")).to_contain_text("Onboarding Kari Nordmann")
    expect(page.locator("#journey-actions")).to_contain_text(re.compile("the end user to fill in the form", re.I))
    expect(page.locator("svg.graph .step-active")).to_have_count(1)
    screenshot(page, "04-journey-waiting-for-form")

    page.select_option("#id_time_to_live_0", "3600")
    page.click("#journey-share button[type=submit]")
    shared = page.locator("#shared-url")
    expect(shared).to_be_visible()
    expect(page.locator("#journey-share img.qr")).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("Created a new journey URL")
    screenshot(page, "05-journey-url-shared")

    end_user = page.context.new_page()
    end_user.goto(shared.input_value())
    end_user.fill("input[name=phone]", "+47 912 34 567")
    screenshot(end_user, "06-sandbox-end-user-form")
    end_user.click("button[type=submit]")
    # The sandbox answers with the journey's next page; closing the tab while that navigation was still in flight
    # could leave Playwright waiting for ever on the closing page.
    expect(end_user.locator("input[name=phone]")).to_have_count(0)
    end_user.close()

    # Mint's status-change webhook, as its task processes it, writes the news to the journey's mirror row; the page
    # polls that row while the journey can still change, so the new state arrives without a reload.
    journey_refresh(journey_id=started["journeyId"])
    expect(page.locator("#journey-actions")).to_contain_text(re.compile("someone to continue this step by hand", re.I),
                                                             timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#journey-live")).to_contain_text("Phone number given: +47 912 34 567")
    expect(page.locator("#journey-live")).to_contain_text("welcome.txt")

    note = page.locator("#id_content")
    note.fill("Customer confirmed the phone number by phone.")
    expect(page.locator("[data-counter-for=id_content]")).to_have_text("45 / 1000")
    page.click("#journey-notes button[type=submit]")
    expect(page.locator("#journey-notes .note").first).to_contain_text("Customer confirmed the phone number")
    expect(page.locator("#journey-notes .note").first).to_contain_text("handler")
    expect(page.locator("#id_content")).to_have_value("")
    screenshot(page, "07-journey-note-added")

    screenshot(page, "08-journey-continue-form")
    page.click("#journey-actions button:text('Continue this step')")
    expect(page.locator("#flash")).to_contain_text("Continued step “review”")
    expect(page.locator("#journey-status .badge")).to_have_text("Finished")
    screenshot(page, "09-journey-finished")
    assert api.journey(started["journeyId"])["status"] == "finished"
