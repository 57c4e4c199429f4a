"""In real Chromium: a page left open signs itself out after the idle timeout, because its polls do not count
as activity while the user's own clicks do (static/js/portal.js, mintportal/security.py)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.clock import Clock
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def is_htmx(request) -> bool:
    return request.headers.get("hx-request") == "true"


def test_a_page_left_open_signs_itself_out_after_the_idle_timeout(
    browser_page, live_server, approver: User, clock: Clock
) -> None:
    page = browser_page
    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")

    # The inbox polls every 15 s: a background request, not the user's.
    with page.expect_request(is_htmx, timeout=LIVE_TIMEOUT_MS) as poll:
        pass
    assert "x-portal-activity" not in poll.value.headers
    # Clicking is the user's doing. (Playwright's select_option sends a scripted, untrusted change event.)
    with page.expect_request(is_htmx) as click:
        page.click("#inbox-filters button[type=submit]")
    assert click.value.headers.get("x-portal-activity") == "user"

    clock.advance(31 * 60)
    # The next poll finds the session ended and takes the whole page to the sign-in form, not into the table.
    expect(page).to_have_url(re.compile(r"/login/\?next=/approvals/"), timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#flash")).to_contain_text("You were signed out after a while without activity.")
    expect(page.locator("h1")).to_have_text("Sign in")
