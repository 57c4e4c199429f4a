"""Time zones and the relative/absolute toggle in real Chromium: a browser in New York is shown New York times
labelled as such, the header's toggle switches every time at once (by mouse and keyboard) and is remembered, the
dashboard refreshes itself (not while the tab is hidden), axe finds nothing serious, and the toggle fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from accounts.models import UserPreference
from tests.e2e.accessibility import SMALL_TARGETS, AxeReport
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login
from tests.journeys.conftest import make_journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_YORK = "America/New_York"
# 13:03 UTC in November: 08:03 in New York (EST), 14:03 in Oslo (CET).
FAULTED = datetime(2026, 11, 20, 13, 3, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}

# Marks the next dashboard poll that the page held back because the tab was hidden.
WATCH_HELD_POLL = """() => {
  window.heldPoll = false;
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt.id === "dashboard" && event.defaultPrevented) window.heldPoll = true;
  });
}"""
SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def browser_in(chromium, zone: str, viewport: dict[str, int], **options) -> Iterator[Page]:
    context = chromium.new_context(viewport=viewport, locale="en-GB", timezone_id=zone, **options)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def new_yorker(chromium) -> Iterator[Page]:
    yield from browser_in(chromium, NEW_YORK, {"width": 1366, "height": 900})


@pytest.fixture
def new_yorker_phone(chromium) -> Iterator[Page]:
    yield from browser_in(chromium, NEW_YORK, PHONE, has_touch=True, is_mobile=True, device_scale_factor=1)


@pytest.fixture
def one_fault(db: None, settings) -> None:
    settings.TIME_ZONE = "Europe/Oslo"
    make_journey("fault-1", status="faulted", faulted_at=FAULTED)


def fault_time(page: Page):
    return page.locator("#dashboard time[data-when]").first


def test_a_new_yorker_sees_new_york_times_and_toggles_relative_and_absolute(
        new_yorker: Page, live_server, superuser: User, one_fault: None) -> None:
    page = new_yorker
    login(page, live_server.url, superuser)
    expect(page.locator("#time-zone-label")).to_have_text("Times in America/New_York (your browser's zone)")
    expect(fault_time(page)).to_have_text("20 Nov 2026, 08:03 EST")
    expect(fault_time(page)).to_have_attribute("title", re.compile(
        r"^2026-11-20 08:03:00 EST \(America/New_York, UTC-05:00\) · \d+ d( \d+ h)? ago$"))
    expect(page.locator("#dashboard")).to_contain_text("Days in America/New_York")

    toggle = page.get_by_role("button", name="Relative times")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    report = AxeReport("axe-time-zone")
    report.check(page, "dashboard absolute")
    with page.expect_response(lambda r: r.url.endswith("/preferences/times")) as saved:
        toggle.click()
    # Switched at once by the script; the server only remembers it.
    expect(fault_time(page)).to_have_text(re.compile(r"^\d+ d( \d+ h)? ago$"))
    expect(fault_time(page)).to_have_attribute("title", "2026-11-20 08:03:00 EST (America/New_York, UTC-05:00)")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert saved.value.status == 204
    assert UserPreference.objects.get(user=superuser).time_display == "relative"
    report.check(page, "dashboard relative")

    # Remembered: the next page is drawn relative.
    response = page.reload()
    assert 'data-time-display="relative"' in response.text()
    expect(fault_time(page)).to_have_text(re.compile(r"^\d+ d( \d+ h)? ago$"))
    expect(page.get_by_role("button", name="Relative times")).to_have_attribute("aria-pressed", "true")

    # By keyboard: the toggle is a real button, reached and pressed without a mouse.
    toggle = page.get_by_role("button", name="Relative times")
    toggle.focus()
    with page.expect_response(lambda r: r.url.endswith("/preferences/times")):
        page.keyboard.press("Space")
    expect(fault_time(page)).to_have_text("20 Nov 2026, 08:03 EST")
    expect(toggle).to_have_attribute("aria-pressed", "false")

    page.get_by_role("link", name="Change time zone").click()
    report.check(page, "time zone page")
    page.get_by_label("Time zone").select_option("Europe/Oslo")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#time-zone-label")).to_have_text("Times in Europe/Oslo (your choice)")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Oslo")
    report.write()
    assert not report.blocking(), report.failure()


def test_the_dashboard_refreshes_itself_keeps_focus_and_waits_while_the_tab_is_hidden(
        new_yorker: Page, live_server, superuser: User, one_fault: None) -> None:
    page = new_yorker
    login(page, live_server.url, superuser)
    total = page.locator("#dashboard-total")
    expect(total).to_contain_text("1 journey ")
    page.get_by_role("link", name="All journeys").focus()

    page.evaluate(WATCH_HELD_POLL)
    page.evaluate(SET_HIDDEN, True)
    make_journey("later-1", status="finished")
    page.wait_for_function("() => window.heldPoll", timeout=LIVE_TIMEOUT_MS)
    expect(total).to_contain_text("1 journey ")

    # Shown again: brought up to date at once, without waiting for the next poll.
    page.evaluate(SET_HIDDEN, False)
    expect(total).to_contain_text("2 journeys", timeout=5_000)
    expect(page.get_by_role("link", name="All journeys")).to_be_focused()

    make_journey("later-2", status="finished")
    expect(total).to_contain_text("3 journeys", timeout=LIVE_TIMEOUT_MS)
    expect(page.get_by_role("link", name="All journeys")).to_be_focused()


def test_the_toggle_fits_a_phone_and_answers_a_tap(
        new_yorker_phone: Page, live_server, superuser: User, one_fault: None) -> None:
    page = new_yorker_phone
    login(page, live_server.url, superuser)
    page.get_by_role("button", name="Menu").click()
    toggle = page.get_by_role("button", name="Relative times")
    expect(toggle).to_be_visible()
    box = toggle.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 44 and box["width"] >= 44
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(SMALL_TARGETS, ".topbar-menu.open button") == []
    with page.expect_response(lambda r: r.url.endswith("/preferences/times")):
        toggle.tap()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(fault_time(page)).to_have_text(re.compile(r" ago$"))
