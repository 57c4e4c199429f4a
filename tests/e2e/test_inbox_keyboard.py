""""My work" by keyboard and on a phone, in real Chromium: j/k move between rows, "a" opens the decision panel at
Approve and Enter confirms, the focus lands on the next row; "r" goes to the reason; the panel of the last row is
on screen on a 390 × 844 phone; "?" lists the keys; after the first of two approvals the row waits on others.

Screenshots go to /tmp/inbox-*.png (looked at by hand) and test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from journeys.services.sync import journey_refresh
from mintportal.mint import get_client
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.personas import approval_workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ROWS = "#inbox-table tbody tr[data-journey]"
# Where the focus is: the row (its journey id) and the control.
FOCUS = """() => { const el = document.activeElement; const row = el && el.closest("tr[data-journey]");
  return {row: row ? row.dataset.journey : null, text: el ? el.textContent.trim() : "", tag: el ? el.tagName : ""}; }"""


def journeys(*cases: str, tags: list[str]) -> list[str]:
    """Starts one approval journey per case (oldest first, as the inbox lists them) and mirrors each."""
    client = get_client()
    workflow = approval_workflow_create(client, tags=tags, name="Keyboard approval")
    ids = []
    for case in cases:
        started = client.start_journey(workflow.id, input={"case": case})
        journey_refresh(journey_id=started.journey_id)
        ids.append(started.journey_id)
    return ids


def shot(page: Page, name: str) -> None:
    page.screenshot(path=f"/tmp/inbox-{name}.png")
    screenshot(page, f"inbox-keyboard-{name}")


@pytest.fixture
def phone(chromium) -> Iterator[Page]:
    context = chromium.new_context(viewport=PHONE, locale="en-GB", has_touch=True, is_mobile=True,
                                   device_scale_factor=1)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_j_a_enter_decides_and_the_focus_lands_on_the_next_row(
    browser_page: Page, live_server, mint_settings, sandbox, approver: User
) -> None:
    first, second, third = journeys("K-1", "K-2", "K-3", tags=["onboarding"])
    page = browser_page
    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")
    expect(page.locator(ROWS)).to_have_count(3)

    page.keyboard.press("j")
    assert page.evaluate(FOCUS)["row"] == first
    page.keyboard.press("j")
    assert page.evaluate(FOCUS)["row"] == second
    expect(page.locator(f'tr[data-journey="{second}"]')).to_have_class(re.compile(r"\bcurrent\b"))
    # The row the keys are on is seen: its control has a focus ring.
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    shot(page, "desktop-row-focus")

    page.keyboard.press("a")
    dialog = page.locator("#decision-dialog")
    expect(dialog).to_be_visible()
    approve = dialog.locator("button[data-decision=approve]")
    expect(approve).to_be_focused()
    expect(dialog.locator("#decision-title")).to_contain_text("Case K-2")
    shot(page, "desktop-panel")

    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Approved. Mint has been told.")
    expect(dialog).to_be_hidden()
    # The decided row leaves the list when the table is redrawn; the focus is on the next row all along.
    expect(page.locator(f'tr[data-journey="{second}"]')).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    # (Waited for: the redrawn table settles a moment after its rows are swapped in.)
    expect(page.locator(f'tr[data-journey="{third}"] [data-row-primary]')).to_be_focused()
    assert sandbox.count("approveJourney") == 1
    shot(page, "desktop-after-decision")

    # k goes back up; Esc closes a panel opened with o and returns the focus to its row.
    page.keyboard.press("k")
    assert page.evaluate(FOCUS)["row"] == first
    page.keyboard.press("o")
    expect(dialog).to_be_visible()
    expect(dialog.locator("textarea")).to_be_focused()
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.getElementById('decision-dialog').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate(FOCUS)["row"] == first


def test_r_goes_to_the_reason_which_a_rejection_needs(
    browser_page: Page, live_server, mint_settings, approver: User
) -> None:
    (journey,) = journeys("R-1", tags=["onboarding"])
    page = browser_page
    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")

    page.keyboard.press("j")
    page.keyboard.press("r")
    reason = page.locator("#decision-panel textarea")
    expect(reason).to_be_focused()
    # Keys are text while typing: "j" goes into the reason and moves no row.
    page.keyboard.type("jk")
    expect(reason).to_have_value("jk")
    reason.fill("")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#decision-panel")).to_contain_text("A reason is required to reject.")
    expect(page.locator("#decision-panel textarea")).to_be_focused()
    page.keyboard.type("Address does not match")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#flash")).to_contain_text("Rejected. Mint has been told.")
    expect(page.locator(f'tr[data-journey="{journey}"]')).to_have_count(0, timeout=LIVE_TIMEOUT_MS)


def test_the_keys_are_listed_and_slash_goes_to_the_filters(
    browser_page: Page, live_server, mint_settings, approver: User
) -> None:
    journeys("L-1", tags=["onboarding"])
    page = browser_page
    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")

    page.keyboard.press("?")
    keys = page.locator("#keys-dialog")
    expect(keys).to_be_visible()
    expect(keys.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    expect(keys).to_contain_text("Next / previous row")
    shot(page, "desktop-keys")
    page.keyboard.press("Escape")
    expect(keys).to_be_hidden()
    # The same list without the keyboard.
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(keys).to_be_visible()
    keys.get_by_role("button", name="Close").click()
    expect(keys).to_be_hidden()

    page.keyboard.press("/")
    expect(page.locator("#id_workflow")).to_be_focused()


def test_on_a_phone_the_panel_of_the_last_row_is_on_screen(
    phone: Page, live_server, mint_settings, approver: User
) -> None:
    ids = journeys(*(f"M-{n}" for n in range(1, 7)), tags=["onboarding"])
    login(phone, live_server.url, approver)
    phone.goto(f"{live_server.url}/approvals/")
    last = phone.locator(f'tr[data-journey="{ids[-1]}"]')
    decide = last.get_by_role("link", name="Decide")
    decide.scroll_into_view_if_needed()
    shot(phone, "phone-list-bottom")

    decide.click()
    dialog = phone.locator("#decision-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#decision-title")).to_contain_text("Case M-6")
    for part in (dialog, phone.locator("#decision-panel"), dialog.get_by_role("button", name="Approve"),
                 dialog.get_by_role("button", name="Reject"), dialog.get_by_role("button", name="Close")):
        box = part.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["x"] + box["width"] <= PHONE["width"] + 0.5 and box["y"] + box["height"] <= PHONE["height"] + 0.5
    expect(dialog.locator("textarea")).to_be_focused()
    shot(phone, "phone-panel")
    # The journey's data scrolls inside the panel, and the panel closes back to the row's Decide.
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(decide).to_be_focused()


def test_after_the_first_of_two_approvals_the_row_waits_on_others(
    browser_page: Page, live_server, mint_settings, sandbox, approver: User
) -> None:
    (journey,) = journeys("F-1", tags=["contracts"])
    page = browser_page
    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator(f'tr[data-journey="{journey}"]')
    expect(row).to_contain_text("Nobody")

    row.get_by_role("link", name="Decide").click()
    panel = page.locator("#decision-panel")
    expect(panel).to_contain_text("Needs 2 distinct approvers; 0 so far.")
    panel.locator("textarea").fill("Checked the contract")
    panel.get_by_role("button", name="Approve").click()

    expect(page.locator("#flash")).to_contain_text("Your approval is recorded (1 of 2)")
    expect(row).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    others = page.locator(".inbox-tabs a", has_text="Waiting on others")
    expect(others).to_contain_text("1")
    shot(page, "desktop-after-first-vote")
    others.click()
    expect(page).to_have_url(re.compile(r"assignment=others"))
    expect(others).to_have_attribute("aria-current", "page")
    expect(page.locator(f'tr[data-journey="{journey}"]')).to_contain_text("approved so far by approver")
    assert sandbox.count("approveJourney") == 0
    page.locator(f'tr[data-journey="{journey}"]').get_by_role("link", name="Decide").click()
    expect(page.locator("#decision-panel")).to_contain_text("You have approved; waiting for another approver.")
    expect(page.locator("#decision-panel")).to_contain_text("Checked the contract")
    shot(page, "desktop-waiting-on-others-panel")


def test_c_claims_the_row_which_then_shows_under_assigned_to_me(
    browser_page: Page, live_server, mint_settings, approver: User
) -> None:
    first, second = journeys("C-1", "C-2", tags=["onboarding"])
    page = browser_page
    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("c")
    row = page.locator(f'tr[data-journey="{second}"]')
    expect(row.locator("td").nth(3)).to_have_text("You")
    expect(page.locator("#flash")).to_contain_text("The case is yours.")
    # The focus stays on the claimed row, whose Claim button is gone.
    expect(row.locator("[data-row-primary]")).to_be_focused()
    expect(row.get_by_role("button", name="Claim")).to_have_count(0)
    mine = page.locator(".inbox-tabs a", has_text="Assigned to me")
    expect(mine).to_contain_text("1")
    shot(page, "desktop-claimed")
    mine.click()
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(f'tr[data-journey="{second}"]')).to_be_visible()
    assert page.locator(f'tr[data-journey="{first}"]').count() == 0
