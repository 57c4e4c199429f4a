"""The portal on a phone (390 px) and by keyboard, in real Chromium: a menu button instead of a cut-off navigation,
tables that become cards, the decision panel as a full-screen sheet, touch targets of at least 44 px, messages
that never cover a control, focus that follows what htmx opens, reduced motion, and the dark theme a user picks.

Screenshots of the dashboard, the journeys list, a journey and the inbox at 1440 and 390 px, light and dark, are
kept in test-artifacts/screens/ (the test prints where).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from accounts.models import UserPreference
from journeys.services.sync import journey_refresh
from mintportal.mint import get_client
from tests.e2e.accessibility import ARTIFACTS, SMALL_TARGETS, TOUCH_TARGETS
from tests.e2e.conftest import login
from tests.personas import approval_workflow_create, place_workflow
from tests.sandbox.helpers import Api, chain, step, unique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = ARTIFACTS / "screens"
PHONE = {"width": 390, "height": 844}

# Every visible control in the viewport answers a click at its centre itself: nothing (a message) lies on top.
COVERED_CONTROLS = """() => Array.from(document.querySelectorAll("main a.button, main button, main input, main select"))
  .filter((el) => el.offsetParent !== null)
  .map((el) => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.top >= 0 && r.bottom <= innerHeight && r.width > 0)
  .filter(([el, r]) => { const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                         return hit && hit !== el && !el.contains(hit); })
  .map(([el]) => el.outerHTML.slice(0, 90))"""


@pytest.fixture
def phone(chromium) -> Iterator[Page]:
    context = chromium.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True,
                                   device_scale_factor=1)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def keep(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def welcome_journey(api: Api) -> str:
    definition = chain(
        step("name", "set-name", template="Welcome {{ input.customer }}"),
        step("details", "form", fields=[{"name": "phone", "label": "Phone number", "type": "text"}]),
        step("done", "finish"),
    )
    workflow = api.create_workflow(definition, name=unique("Customer welcome"), inputParameters=[{"name": "customer"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    started = api.start(workflow["id"], {"customer": "Kari Nordmann"})
    journey_refresh(journey_id=started["journeyId"])
    return started["journeyId"]


def approval_journey() -> str:
    client = get_client()
    workflow = approval_workflow_create(client, tags=["onboarding"], name="Onboarding approval")
    started = client.start_journey(workflow.id, input={"case": "Ada Lovelace with a rather long family name"})
    journey_refresh(journey_id=started.journey_id)
    return started.journey_id


def test_the_main_pages_are_kept_as_screenshots_at_1440_and_390_px_in_light_and_dark(
    chromium, live_server, superuser: User, api: Api, mint_settings, capsys
) -> None:
    journey_id = welcome_journey(api)
    approval_journey()
    pages = {"dashboard": "/", "journeys": "/journeys/", "journey": f"/journeys/{journey_id}",
             "inbox": "/approvals/"}
    for scheme in ("light", "dark"):
        for width in (1440, 390):
            context = chromium.new_context(viewport={"width": width, "height": 900}, locale="en-GB",
                                           color_scheme=scheme, reduced_motion="reduce")
            page = context.new_page()
            try:
                login(page, live_server.url, superuser)
                for name, address in pages.items():
                    page.goto(live_server.url + address)
                    page.wait_for_load_state("networkidle")
                    # Nothing is wider than the screen: the page never scrolls sideways.
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, scheme, width)
                    keep(page, f"{name}-{width}-{scheme}")
            finally:
                context.close()
    with capsys.disabled():
        print(f"\nscreenshots: {SCREENS}")
    assert len(list(SCREENS.glob("*-*-*.png"))) >= 16


def test_a_phone_gets_a_menu_button_instead_of_a_cut_off_navigation(phone: Page, live_server,
                                                                    superuser: User) -> None:
    login(phone, live_server.url, superuser)
    nav = phone.locator("nav.mainnav")
    expect(nav).to_be_hidden()
    menu = phone.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    # Every item is shown whole, one per line, and none is cut to "Dashb…".
    for link in nav.locator("a").all():
        assert link.evaluate("(el) => el.scrollWidth <= el.clientWidth"), link.inner_text()
    assert phone.evaluate(SMALL_TARGETS, TOUCH_TARGETS) == []
    nav.get_by_role("link", name="My work").click()
    expect(phone.locator("h1")).to_have_text("My work")
    phone.keyboard.press("Escape")


def test_on_a_phone_the_inbox_is_cards_and_the_decision_panel_a_full_screen_sheet(
    phone: Page, live_server, superuser: User, mint_settings
) -> None:
    approval_journey()
    login(phone, live_server.url, superuser)
    phone.goto(f"{live_server.url}/approvals/")
    row = phone.locator("#inbox-table tbody tr").first
    name = row.locator(".name-cell a")
    decide = row.get_by_role("link", name="Decide")
    # The name and its Decide button sit in one card, both on screen: nothing scrolls away sideways.
    assert decide.bounding_box()["x"] + decide.bounding_box()["width"] <= PHONE["width"]
    assert name.bounding_box()["x"] >= 0
    expect(row.locator("td").nth(1)).to_have_attribute("data-label", "Workflow")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.evaluate(SMALL_TARGETS, TOUCH_TARGETS) == []

    decide.click()
    sheet = phone.locator("#decision-panel")
    expect(sheet).to_have_class(re.compile(r"\bsheet\b"))
    box = sheet.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"])
    # Focus moved into the sheet, to the reason; the sheet closes back to the Decide button.
    expect(sheet.locator("textarea")).to_be_focused()
    keep(phone, "inbox-decision-sheet-390-light")
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).not_to_have_class(re.compile(r"\bsheet\b"))
    expect(decide).to_be_focused()


def test_messages_are_announced_and_never_cover_the_page_buttons(
    browser_page: Page, live_server, superuser: User, api: Api, mint_settings
) -> None:
    page = browser_page
    definition = chain(step("name", "set-name", template="x"), step("done", "finish"))
    workflow = api.create_workflow(definition, name=unique("Draft"))
    api.put(f"workflows/{workflow['id']}", json={"name": workflow["name"], **definition})
    place_workflow(workflow["id"], tags=[], name=workflow["name"])
    login(page, live_server.url, superuser)
    page.goto(f"{live_server.url}/workflows/{workflow['id']}")
    page.locator("ul.versions li", has_text="Version 2").get_by_role("button", name="Publish").click()
    expect(page.locator("h1")).to_have_text("Publish version 2?")
    page.get_by_role("button", name="Publish version 2").click()
    flash = page.locator("#flash .flash")
    expect(flash).to_contain_text("Published")
    expect(page.locator("#flash")).to_have_attribute("aria-live", "polite")
    assert page.evaluate(COVERED_CONTROLS) == []
    # It stays until dismissed, and the page's buttons keep their place.
    actions = page.locator(".page-head .actions").bounding_box()
    flash.get_by_role("button", name="Dismiss").click()
    expect(flash).to_have_count(0)
    assert page.locator(".page-head .actions").bounding_box()["x"] == actions["x"]


def test_keyboard_users_reach_the_decision_panel_and_focus_follows_it(
    browser_page: Page, live_server, superuser: User, mint_settings
) -> None:
    approval_journey()
    page = browser_page
    login(page, live_server.url, superuser)
    page.goto(f"{live_server.url}/approvals/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    assert page.locator(".skip-link").bounding_box()["x"] >= 0
    decide = page.locator("#inbox-table a", has_text="Decide").first
    for _ in range(40):
        page.keyboard.press("Tab")
        if decide.evaluate("(el) => el === document.activeElement"):
            break
    expect(decide).to_be_focused()
    outline = decide.evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#decision-panel textarea")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#decision-panel")).to_contain_text("A reason is required")
    expect(page.locator("#decision-panel textarea")).to_be_focused()


def test_reduced_motion_stops_the_pulsing_and_fading(chromium, live_server, superuser: User, api: Api,
                                                     mint_settings) -> None:
    journey_id = welcome_journey(api)
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    try:
        login(page, live_server.url, superuser)
        page.goto(f"{live_server.url}/journeys/{journey_id}")
        pulse = page.locator("#journey-actions .pulse").first
        assert pulse.evaluate("(el) => getComputedStyle(el).animationName") == "none"
        page.goto(f"{live_server.url}/journeys/?status=active")
        live = page.locator(".live-dot").first
        assert live.evaluate("(el) => getComputedStyle(el, '::before').animationName") == "none"
    finally:
        context.close()


def test_the_dark_theme_a_user_picks_follows_them_to_another_browser(
    chromium, live_server, superuser: User
) -> None:
    first = chromium.new_context(color_scheme="light")
    page = first.new_page()
    try:
        login(page, live_server.url, superuser)
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        page.get_by_role("button", name="Dark mode").click()
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") != background
        expect(page.locator("h1")).to_have_text("Dashboard")
    finally:
        first.close()
    assert UserPreference.objects.get(user=superuser).theme == "dark"

    second = chromium.new_context(color_scheme="light")
    page = second.new_page()
    try:
        login(page, live_server.url, superuser)
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        page.get_by_role("button", name="Use system colours").click()
        expect(page.locator("html")).not_to_have_attribute("data-theme", re.compile("."))
        expect(page.get_by_role("button", name="Dark mode")).to_be_visible()
    finally:
        second.close()


def test_focus_moves_into_a_note_being_edited_and_back_to_the_note_after(
    browser_page: Page, live_server, superuser: User, api: Api, mint_settings
) -> None:
    journey_id = welcome_journey(api)
    page = browser_page
    login(page, live_server.url, superuser)
    page.goto(f"{live_server.url}/journeys/{journey_id}")
    page.fill("#id_content", "Called the customer")
    page.click("#journey-notes button[type=submit]")
    note = page.locator("#journey-notes .note").first
    expect(note).to_contain_text("Called the customer")
    note.locator(".edit-link").click()
    expect(page.locator("#journey-notes .note.editing textarea")).to_be_focused()
    page.locator("#journey-notes .note.editing").get_by_role("link", name="Cancel").click()
    expect(page.locator("#journey-notes .note.editing")).to_have_count(0)
    expect(page.locator("#journey-notes .note").first.locator(".edit-link")).to_be_focused()


def test_a_finished_bulk_launchs_progress_bar_spans_its_card(
    browser_page: Page, live_server, superuser: User, api: Api, mint_settings
) -> None:
    from django.utils import timezone

    from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus

    workflow = api.create_workflow(chain(step("done", "finish")), name=unique("Bulk"),
                                   inputParameters=[{"name": "customer"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    now = timezone.now()
    bulk = BulkLaunch.objects.create(workflow_id=workflow["id"], workflow_name=workflow["name"], columns=["customer"],
                                     journey_url_ttl=3600, status=BulkLaunchStatus.FINISHED, row_count=1,
                                     created_by=superuser, created_at=now, confirmed_at=now, finished_at=now)
    Launch.objects.create(key=unique("key"), workflow_id=workflow["id"], input={"customer": "Ola"}, bulk=bulk,
                          row_number=2, journey_url_ttl=3600, status=LaunchStatus.STARTED, created_by=superuser,
                          created_at=now, finished_at=now, journey_id="j-1")
    page = browser_page
    login(page, live_server.url, superuser)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/launches/bulk/{bulk.id}/")
        card = page.locator("#bulk-progress")
        inner = card.evaluate("(el) => el.clientWidth - parseFloat(getComputedStyle(el).paddingLeft)"
                              " - parseFloat(getComputedStyle(el).paddingRight)")
        assert card.locator("progress").bounding_box()["width"] >= inner - 1, width


def test_a_poll_of_the_table_keeps_focus_on_the_same_link(browser_page: Page, live_server, superuser: User,
                                                          api: Api, mint_settings) -> None:
    welcome_journey(api)
    page = browser_page
    login(page, live_server.url, superuser)
    page.goto(f"{live_server.url}/journeys/?status=active")
    link = page.locator("#journey-table tbody tr .name-cell a").first
    link.focus()
    href = link.get_attribute("href")
    # What the table's own 10 s poll does, without waiting 10 s: a request no person triggered.
    page.evaluate("""() => new Promise((done) => {
        document.body.addEventListener("htmx:afterSettle", () => setTimeout(done, 0), {once: true});
        htmx.ajax("GET", location.pathname + location.search, {target: "#journey-table", swap: "outerHTML"});
    })""")
    assert page.evaluate("document.activeElement.getAttribute('href')") == href
    assert page.evaluate("document.activeElement.closest('#journey-table') !== null")
