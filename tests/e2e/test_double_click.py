"""A double click on a write sends it once: the form's buttons are disabled while its request is on its way."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import AuditEvent
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step, unique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_double_clicked_continue_reaches_mint_once_and_records_one_event(
    browser_page, live_server, case_handler: User, api: Api, mint_settings, sandbox
) -> None:
    page = browser_page
    workflow = api.create_workflow(chain(step("review", "suspend"), step("done", "finish")), name=unique("Hold"))
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    journey_id = api.start(workflow["id"])["journeyId"]
    # The sandbox takes a moment to answer the resume, so the second click lands while the first is on its way.
    sandbox.add_fault(path=r"/resume$", method="POST", latency_ms=800, times=1)
    sandbox.reset_counters()

    login(page, live_server.url, case_handler)
    page.goto(live_server.url + reverse("journeys:detail", kwargs={"journey_id": journey_id}))
    page.locator("#journey-actions button[type=submit]").dblclick()

    expect(page.locator("#flash")).to_contain_text("the journey is now finished", timeout=LIVE_TIMEOUT_MS)
    screenshot(page, "double-click-continue")
    assert sandbox.count("resumeJourney") == 1
    events = AuditEvent.objects.filter(journey_id=journey_id, action="journey.resume")
    assert [(event.outcome) for event in events] == ["ok"]


def test_a_continue_of_a_step_someone_else_just_continued_says_so_in_place(
    browser_page, live_server, case_handler: User, api: Api, mint_settings
) -> None:
    page = browser_page
    workflow = api.create_workflow(chain(step("review", "suspend"), step("second", "suspend"), step("done", "finish")),
                                   name=unique("Two holds"))
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    journey_id = api.start(workflow["id"])["journeyId"]

    login(page, live_server.url, case_handler)
    page.goto(live_server.url + reverse("journeys:detail", kwargs={"journey_id": journey_id}))
    api.post(f"journeys/{journey_id}/resume", json={"stepId": "review", "input": {}})
    page.locator("#journey-actions button[type=submit]").click()

    # A 409 is swapped in place like a form error, not lost behind a generic "that did not work".
    expect(page.locator("#journey-actions [role=alert]")).to_contain_text("not waiting at step “review”",
                                                                       timeout=LIVE_TIMEOUT_MS)
    screenshot(page, "continue-after-someone-else")
