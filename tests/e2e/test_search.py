"""Business-data search in real Chromium: a case handler finds a journey by its customer number, adds a data column,
follows the current-step link, and gets a malformed filter's message beside the data filter inputs; journeys of a
workflow outside their scope never show, even with the same customer number. axe finds nothing serious or critical.

Screenshots go to test-artifacts/screenshots/search-*.png.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from journeys.models import WaitingStep
from tests.e2e.accessibility import AxeReport
from tests.e2e.conftest import login, screenshot
from tests.journeys.conftest import make_journey
from tests.personas import WF_INSIDE, WF_OUTSIDE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#journey-table tbody tr .name-cell a"


def customer(number: str, score: int) -> dict:
    return {"input": {"customerNumber": number}, "steps": {"risk": {"score": score}}}


def test_a_handler_finds_a_journey_by_customer_number_and_reads_a_bad_filter_beside_it(
    browser_page: Page, live_server, case_handler: User
) -> None:
    wanted = make_journey("onb-8", status="active", name="Anna Andersen", workflow_id=WF_INSIDE,
                          pending_steps=True, data=customer("C-100508", 91))
    WaitingStep.objects.create(journey=wanted, step_id="verify", step_type="suspend")
    make_journey("onb-9", status="active", name="Bo Berg", workflow_id=WF_INSIDE, data=customer("C-100509", 12))
    make_journey("batch-8", status="active", name="Hidden Batch", workflow_id=WF_OUTSIDE,
                 data=customer("C-100508", 99))
    report = AxeReport("accessibility-search")
    page = browser_page

    login(page, live_server.url, case_handler)
    page.goto(f"{live_server.url}/journeys/")
    expect(page.locator(ROWS)).to_have_count(2)
    page.get_by_label("Data filter 1").fill("customerNumber = C-100508")
    page.get_by_label("Data filter 1").press("Enter")

    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS)).to_have_text("Anna Andersen")
    expect(page).to_have_url(re.compile(r"data=customerNumber(\+|%20)%3D(\+|%20)C-100508"))
    page.get_by_label("Data columns").fill("risk.score")
    page.get_by_label("Data columns").press("Enter")
    expect(page.locator("#journey-table td.data-col")).to_have_text("91")
    report.check(page, "found")
    screenshot(page, "search-found")

    page.locator("#journey-table .step-cell a", has_text="verify").click()
    expect(page).to_have_url(re.compile(r"step=verify"))
    expect(page.locator(ROWS)).to_have_text("Anna Andersen")

    page.goto(f"{live_server.url}/journeys/")
    page.get_by_label("Data filter 1").fill("risk.score > abc")
    page.get_by_label("Data filter 1").press("Enter")
    expect(page.locator("#data-filters-errors")).to_contain_text("neither a number nor an ISO date")
    expect(page.locator("#journey-table .form-errors")).to_contain_text("Some filters were not applied")
    page.reload()
    expect(page.locator("#data-filters .field-error")).to_contain_text("neither a number nor an ISO date")
    report.check(page, "malformed")
    screenshot(page, "search-malformed")

    report.write()
    assert not report.blocking(), report.failure()
