"""Saved views in real Chromium: a case handler finds a customer's journeys by business data
(``customerNumber = C-100508``), saves the list as a view shared with a team and pinned; a colleague of that team,
whose scope is narrower, finds the view among theirs and sees only their own journeys in it, in the list and in the
navigation's count. axe finds nothing serious or critical on the saved-view pages.

Screenshots go to test-artifacts/screenshots/saved-views-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import Page, expect

from accounts.models import Action, Scope
from tests.e2e.accessibility import AxeReport
from tests.e2e.conftest import login, screenshot
from tests.journeys.conftest import make_journey
from tests.personas import WF_CONTRACTS, WF_INSIDE, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#journey-table tbody tr .name-cell a"
VIEW_NAME = "Customer C-100508"
CUSTOMER = {"input": {"customerNumber": "C-100508"}}


@pytest.fixture
def night_shift(scoped_workflows) -> Group:
    """A team that sees only the onboarding workflow's journeys."""
    team = Group.objects.create(name="Night shift")
    Scope.objects.create(team=team, name="Onboarding only", actions=[Action.VIEW], workflow_ids=[WF_INSIDE])
    return team


@pytest.fixture
def second_page(chromium) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def checked(report: AxeReport, page: Page, state: str) -> None:
    report.check(page, state)
    screenshot(page, f"saved-views-{state}")


def test_a_view_shared_with_a_team_shows_each_member_only_their_journeys(
    browser_page: Page, second_page: Page, live_server, case_handler: User, night_shift: Group
) -> None:
    case_handler.groups.add(night_shift)
    colleague = make_user("nightowl")
    colleague.groups.add(night_shift)
    make_journey("onb-active", status="active", name="Anna Andersen", workflow_id=WF_INSIDE, data=CUSTOMER)
    make_journey("con-active", status="active", name="Anna's contract", workflow_id=WF_CONTRACTS,
                 workflow_name="Contracts", data=CUSTOMER)
    make_journey("onb-other", status="active", name="Bo Berg", workflow_id=WF_INSIDE,
                 data={"input": {"customerNumber": "C-200000"}})
    report = AxeReport("accessibility-saved-views")
    page = browser_page

    login(page, live_server.url, case_handler)
    page.goto(f"{live_server.url}/journeys/")
    expect(page.locator(ROWS)).to_have_count(3)
    page.fill("#id_data_1", "customerNumber = C-100508")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(ROWS)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"data=customerNumber"))
    # The address holds the filters; drawn again from it, every link on the page carries them.
    page.reload()
    page.get_by_role("link", name="Save view").click()
    expect(page.locator("h1")).to_have_text("Save this list as a view")
    expect(page.locator("#id_query")).to_have_value(re.compile(r"data=customerNumber\+%3D\+C-100508"))
    checked(report, page, "save")
    page.fill("#id_name", VIEW_NAME)
    page.get_by_label("Night shift").check()
    page.get_by_label("Pin to my navigation").check()
    page.get_by_role("button", name="Save view").click()

    expect(page.locator("h1")).to_have_text("Saved views")
    row = page.locator("#savedviews-table tbody tr", has_text=VIEW_NAME)
    expect(row).to_contain_text("Night shift")
    expect(page.locator(".mainnav a", has_text=VIEW_NAME).locator(".nav-count")).to_have_text(re.compile(r"^2"))
    checked(report, page, "list-owner")
    row.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.locator("#id_name")).to_have_value(VIEW_NAME)
    checked(report, page, "edit")
    page.goto(page.url.replace("/edit", "/delete"))
    expect(page.locator("h1")).to_contain_text("Delete view")
    checked(report, page, "delete")

    other = second_page
    login(other, live_server.url, colleague)
    other.goto(f"{live_server.url}/views/")
    shared = other.locator("#savedviews-table tbody tr", has_text=VIEW_NAME)
    expect(shared).to_contain_text("handler")
    expect(shared.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    checked(report, other, "list-shared")
    shared.get_by_role("button", name=re.compile("^Pin")).click()
    expect(other.locator(".mainnav a", has_text=VIEW_NAME).locator(".nav-count")).to_have_text(re.compile(r"^1"))
    other.locator("#savedviews-table").get_by_role("link", name=VIEW_NAME).click()
    expect(other.locator(ROWS)).to_have_count(1)
    expect(other.locator(ROWS)).to_have_text("Anna Andersen")
    expect(other.locator(".mainnav a[aria-current=page]")).to_contain_text(VIEW_NAME)
    screenshot(other, "saved-views-opened-by-colleague")

    report.write()
    assert not report.blocking(), report.failure()
