"""Where journeys wait, in real Chromium: a case handler opens a workflow's page, whose graph (loaded by htmx from
the journeys app) shows on each step the journeys waiting there, those faulted there and the median time in the
step; a click on a count opens the journeys list filtered to exactly those journeys. The journeys are real sandbox
journeys, mirrored by the sync and their step history read by the history job. axe finds nothing serious or
critical on the page, in light mode on a desktop and dark mode on a phone. Screenshots go to
test-artifacts/screenshots/step-graph-*.png.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from journeys.services.step_history import step_history_refresh
from journeys.services.sync import journey_sync
from tests.e2e.accessibility import AxeReport
from tests.e2e.conftest import login, screenshot
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, link, step, unique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#journey-table tbody tr .name-cell a"


def risk_workflow(api: Api) -> dict:
    """High-risk journeys raise an alert at ``flag`` and fault; the others wait at ``hold`` for a case handler."""
    definition = {
        "steps": [
            step("check", "if-else", left="{{ input.risk }}", operator="eq", right="high"),
            step("flag", "trigger-alert", severity="critical", message="High risk"),
            step("boom", "fault", message="Refused"),
            step("hold", "suspend"),
            step("done", "finish"),
        ],
        "connections": [link("check", "flag", "True"), link("check", "hold", "False"), link("flag", "boom"),
                        link("hold", "done")],
    }
    return api.create_workflow(definition, name=unique("Risk check"), inputParameters=[{"name": "risk"}])


def test_the_graph_shows_where_journeys_wait_and_a_count_opens_their_list(
    chromium, browser_page: Page, live_server, case_handler: User, api: Api, mint_settings
) -> None:
    workflow = risk_workflow(api)
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    for risk in ("low", "low", "high"):
        api.start(workflow["id"], {"risk": risk})
    journey_sync()
    step_history_refresh()
    report = AxeReport("accessibility-step-graph")
    page = browser_page

    login(page, live_server.url, case_handler)
    page.goto(f"{live_server.url}/workflows/{workflow['id']}")
    hold = page.locator("#step-graph g[data-step='hold']")
    flag = page.locator("#step-graph g[data-step='flag']")
    boom = page.locator("#step-graph g[data-step='boom']")
    expect(hold.locator("a.step-waiting")).to_have_text("2 waiting")
    expect(hold.locator("a.step-faulted-count")).to_have_text("0 faulted")
    # The alert step before the fault is not where the journey faulted: its execution log says "boom".
    expect(flag.locator("a.step-faulted-count")).to_have_text("0 faulted")
    expect(boom.locator("a.step-faulted-count")).to_have_text("1 faulted")
    # Every journey ran the if-else step, in well under a second each.
    expect(page.locator("#step-graph g[data-step='check'] .step-median")).to_have_text("median 0 s, 3 visits")
    expect(hold.locator(".step-median")).to_have_text("no visit ended in 30 d")
    expect(hold.get_by_role("link", name="2 waiting at hold: open the list of these journeys")).to_be_visible()
    report.check(page, "workflow-graph")
    screenshot(page, "step-graph-counts")

    hold.locator("a.step-waiting").click()
    expect(page).to_have_url(re.compile(r"/journeys/\?workflow=[^&]+&step=hold$"))
    expect(page.locator(ROWS)).to_have_count(2)
    screenshot(page, "step-graph-waiting-list")

    page.go_back()
    page.locator("#step-graph g[data-step='boom'] a.step-faulted-count").click()
    expect(page).to_have_url(re.compile(r"status=faulted&step=boom$"))
    expect(page.locator(ROWS)).to_have_count(1)

    # The same page in dark mode on a phone.
    context = chromium.new_context(viewport={"width": 390, "height": 900}, locale="en-GB", color_scheme="dark")
    context.set_default_timeout(10_000)
    try:
        phone = context.new_page()
        login(phone, live_server.url, case_handler)
        phone.goto(f"{live_server.url}/workflows/{workflow['id']}")
        expect(phone.locator("#step-graph g[data-step='hold'] a.step-waiting")).to_have_text("2 waiting")
        report.check(phone, "workflow-graph-dark-phone")
        screenshot(phone, "step-graph-dark-phone")
    finally:
        context.close()

    report.write()
    assert not report.blocking(), report.failure()
