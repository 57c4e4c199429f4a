"""Browser fixtures: real Chromium driven by Playwright against the portal served by ``live_server``.

Shared with the launch and approval browser tests:

- ``browser_page``: a fresh page (own context, 1366×900) in the session's Chromium;
- ``login(page, base_url, user)``: signs a persona in through the sign-in form;
- ``screenshot(page, name)``: saves ``test-artifacts/screenshots/<name>.png`` (left behind for review).

The portal runs in the test process (``live_server``) on the real test database, so tests that use these
fixtures need ``transactional_db`` (the server thread must see the rows the test creates).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractBaseUser

from tests.conftest import require_service
from tests.personas import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
# Long enough for an htmx poll (every 10 s) to bring a change in; most waits end far sooner.
LIVE_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def chromium(django_db_setup: None) -> Iterator[object]:
    """One Chromium for the session (Debian's package; Playwright's own download does not work here).

    Playwright's sync API keeps an event loop running in the main thread while it is open, which trips
    Django's guard against ORM calls from async code; the tests' queries are plain synchronous ones, so the
    guard is lifted for exactly as long as the browser runs. The test database is set up first so that it
    is also torn down after the browser has closed.
    """
    from playwright.sync_api import sync_playwright

    require_service("Chromium", Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def browser_page(chromium) -> Iterator[object]:
    """A new page in its own browser context (cookies and storage start empty)."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def login(page, base_url: str, user: AbstractBaseUser, password: str = PASSWORD) -> None:
    """Signs ``user`` in through the portal's sign-in form and waits for the dashboard."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:text('Dashboard')")


def screenshot(page, name: str) -> Path:
    """Saves a full-page screenshot as test-artifacts/screenshots/<name>.png and returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # From the top, so the sticky header sits where it belongs in the full-page image.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path
