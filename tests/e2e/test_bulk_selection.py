"""Ticking journeys for a bulk action in real Chromium, as the new-user walk found it: ticks survive the journeys
list's automatic refresh and its paging (kept per list query), "select every journey on this page" ticks a page,
the count says how many are selected and "Clear selection" empties it; "Act on selected…" sends every tick. The
bulk form then shows only the chosen action's fields, and Back after the dry run returns to the form (a GET), not
to Chromium's "Confirm form resubmission". axe-core finds no serious or critical violation on these screens.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from journeys.models import Journey
from tests.e2e.accessibility import AxeReport
from tests.e2e.conftest import login, screenshot
from tests.personas import WF_INSIDE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 30  # a first page of 25 and a second of 5


def axe_clean(report: AxeReport, page: Page, state: str) -> None:
    report.check(page, state)
    report.write()
    assert not report.blocking(), report.failure()


def mirror_rows() -> list[str]:
    now = timezone.now()
    rows = [Journey(id=f"tick-{index:03d}", workflow_id=WF_INSIDE, workflow_name="Onboarding", version=1,
                    status="active", name=f"Ticked {index:02d}", last_executed_at=now, created_at=now, seen_at=now)
            for index in range(ROWS)]
    Journey.objects.bulk_create(rows)
    return [row.id for row in rows]


def box(page: Page, index: int):
    return page.get_by_label(f"Select Ticked {index:02d}", exact=True)


def test_ticks_survive_refresh_and_paging_and_act_on_selected_sends_them_all(
    browser_page: Page, live_server, case_handler: User
) -> None:
    mirror_rows()
    page = browser_page
    report = AxeReport("bulk-selection")
    login(page, live_server.url, case_handler)
    page.goto(f"{live_server.url}/journeys/?workflow={WF_INSIDE}&sort=name")
    count = page.locator("#journey-table [data-selected-count]")
    expect(page.get_by_role("button", name="Act on selected…")).to_be_disabled()

    box(page, 0).check()
    box(page, 1).check()
    expect(count).to_have_text("2 selected")
    # The table redraws as its poll does every 10 s.
    with page.expect_response(lambda response: "/journeys/" in response.url):
        page.evaluate("htmx.ajax('GET', document.getElementById('journey-table').getAttribute('hx-get'),"
                      " {target: '#journey-table', swap: 'outerHTML'})")
    expect(box(page, 0)).to_be_checked()
    expect(box(page, 1)).to_be_checked()
    expect(count).to_have_text("2 selected")
    axe_clean(report, page, "list-ticked")

    # Page 2: select all of it with the header's box, from the keyboard.
    page.get_by_role("link", name="Next →").click()
    expect(box(page, 29)).to_be_visible()
    select_all = page.get_by_label("Select every journey on this page")
    select_all.focus()
    page.keyboard.press("Space")
    expect(count).to_have_text("7 selected")
    page.get_by_role("link", name="← Previous").click()
    expect(box(page, 0)).to_be_checked()
    expect(box(page, 2)).not_to_be_checked()
    expect(select_all).not_to_be_checked()
    screenshot(page, "bulk-selection-01-list")

    page.get_by_role("button", name="Act on selected…").click()
    expect(page.locator("h1")).to_have_text("Act on 7 journeys")
    expect(page).to_have_url(re.compile(r"/bulk/new\?selection=[0-9a-f]{32}$"))

    # Without a chosen action no action's fields show; choosing one shows its own only.
    note, assignee = page.get_by_label("Note", exact=True), page.get_by_label("Assign to (username)")
    expect(note).to_be_hidden()
    expect(assignee).to_be_hidden()
    page.get_by_label("Assign to a person").check()
    expect(assignee).to_be_visible()
    expect(note).to_be_hidden()
    page.get_by_label("Add a note").check()
    expect(note).to_be_visible()
    expect(assignee).to_be_hidden()
    expect(page.get_by_label("Link lifetime")).to_be_hidden()
    axe_clean(report, page, "form-note")
    screenshot(page, "bulk-selection-02-form")
    note.fill("Called the customer")
    page.get_by_role("button", name="Dry run").click()

    expect(page.locator("#dry-run-summary [data-count=will_act]")).to_have_text("7")
    expect(page.get_by_role("button", name="Add the note to 7 journeys")).to_be_visible()
    # Back returns to the form, drawn again from its address: no resubmission prompt, no error page.
    page.go_back()
    expect(page.locator("h1")).to_have_text("Act on 7 journeys")
    page.go_back()
    expect(page.locator("#journey-table [data-selected-count]")).to_have_text("7 selected")
    expect(box(page, 1)).to_be_checked()

    page.get_by_role("button", name="Clear selection").click()
    expect(page.locator("#journey-table [data-selected-count]")).to_have_text("Tick journeys to act on them together.")
    expect(box(page, 0)).not_to_be_checked()
    expect(page.get_by_role("button", name="Act on selected…")).to_be_disabled()


def test_an_operator_gets_the_one_action_it_may_take_preselected_with_its_fields(
    browser_page: Page, live_server, operator: User
) -> None:
    ids = mirror_rows()[:3]
    page = browser_page
    report = AxeReport("bulk-selection-operator")
    login(page, live_server.url, operator)
    page.goto(f"{live_server.url}/bulk/new?" + "&".join(f"journey={journey_id}" for journey_id in ids))

    expect(page.get_by_label("Create new journey URLs")).to_be_checked()
    expect(page.get_by_role("group", name="New journey URLs: how long they work")).to_be_visible()
    expect(page.get_by_text("Reason")).to_have_count(0)
    axe_clean(report, page, "form-operator")
