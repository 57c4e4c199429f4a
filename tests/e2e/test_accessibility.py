"""WCAG 2.2 AA as a test: axe-core runs inside Chromium on every portal page and every htmx state the browser
tests reach, in light and dark mode, at 1440 and 390 px wide, and any serious or critical violation fails.

On phones every control also offers a touch target of at least 44 × 44 px. The counts per page and mode are
written to test-artifacts/accessibility-<mode>.json (the test prints where).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from journeys.services.sync import journey_refresh
from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus
from mintportal.mint import get_client
from privacy.services import declaration_save
from tests.e2e.accessibility import SMALL_TARGETS, TOUCH_TARGETS, AxeReport
from tests.e2e.conftest import login, screenshot
from tests.personas import approval_workflow_create, place_workflow
from tests.sandbox.helpers import Api, chain, step, unique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODES = [("light", 1440), ("dark", 1440), ("light", 390), ("dark", 390)]


def arrange(api: Api, superuser: User) -> dict[str, str]:
    """A workflow in two versions whose journey waits for the end user's form, an approval journey in the
    inbox, a launch that started, a finished bulk launch and a secret: every page then has something to show."""
    definition = chain(
        step("name", "set-name", template="Welcome {{ input.customer }}"),
        step("details", "form", fields=[{"name": "phone", "label": "Phone number", "type": "text"}]),
        step("review", "suspend"),
        step("done", "finish"),
    )
    workflow = api.create_workflow(definition, name=unique("Customer welcome"),
                                   inputParameters=[{"name": "customer"}], tags=["onboarding"])
    definition["steps"][0]["properties"]["template"] = "Hello {{ input.customer }}"
    api.put(f"workflows/{workflow['id']}", json={"name": workflow["name"], **definition,
                                                 "inputParameters": [{"name": "customer"}], "tags": ["onboarding"]})
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    started = api.start(workflow["id"], {"customer": "Kari Nordmann"})
    journey_refresh(journey_id=started["journeyId"])

    client = get_client()
    approval = approval_workflow_create(client, tags=["onboarding"], name="Onboarding approval")
    # Its journeys hold a declared name: their pages are masked and offer Reveal.
    declaration_save(actor=superuser, workflow_id=approval.id, version=1,
                     fields=[{"path": "input.case", "kind": "name"}])
    waiting = client.start_journey(approval.id, input={"case": "Ada Lovelace"})
    journey_refresh(journey_id=waiting.journey_id)

    now = timezone.now()
    launch = Launch.objects.create(
        key=unique("key"), workflow_id=workflow["id"], workflow_name=workflow["name"], input={"customer": "Ola"},
        journey_url_ttl=3600, status=LaunchStatus.STARTED, created_by=superuser, created_at=now, finished_at=now,
        journey_id=started["journeyId"], journey_url=started["journeyUrl"],
        journey_url_expires_at=now + timedelta(hours=1),
    )
    bulk = BulkLaunch.objects.create(
        workflow_id=workflow["id"], workflow_name=workflow["name"], filename="customers.csv", columns=["customer"],
        journey_url_ttl=86400, status=BulkLaunchStatus.FINISHED, row_count=2, created_by=superuser,
        created_at=now, confirmed_at=now, finished_at=now,
    )
    Launch.objects.create(
        key=unique("key"), workflow_id=workflow["id"], workflow_name=workflow["name"], input={"customer": "Per"},
        journey_url_ttl=86400, status=LaunchStatus.STARTED, bulk=bulk, row_number=1, created_by=superuser,
        created_at=now, finished_at=now, journey_id=started["journeyId"], journey_url=started["journeyUrl"],
    )
    Launch.objects.create(
        key=unique("key"), workflow_id=workflow["id"], workflow_name=workflow["name"], input={"customer": "Liv"},
        journey_url_ttl=86400, status=LaunchStatus.FAILED, bulk=bulk, row_number=2, created_by=superuser,
        created_at=now, finished_at=now, error="Mint refused the input",
    )
    return {
        "workflow": workflow["id"], "journey": started["journeyId"], "approval": waiting.journey_id,
        "approval_workflow": approval.id,
        "launch": str(launch.id), "bulk": str(bulk.id),
    }


def states(ids: dict[str, str]) -> list[tuple[str, str, Callable[[Page], None] | None]]:
    """(name, address, what to do there before checking) for every page and htmx state."""

    def filter_journeys(page: Page) -> None:
        page.select_option("#id_status", "active")
        expect(page).to_have_url(re.compile(r"status=active"))

    def share_url(page: Page) -> None:
        page.locator("#journey-share button[type=submit]").click()
        expect(page.locator("#shared-url")).to_be_visible()

    def add_note(page: Page) -> None:
        text = unique("Called the customer")
        page.fill("#id_content", text)
        page.click("#journey-notes button[type=submit]")
        expect(page.locator("#journey-notes .note").first).to_contain_text(text)
        page.locator("#journey-notes .edit-link").first.click()
        expect(page.locator("#journey-notes .note.editing")).to_have_count(1)

    def open_decision(page: Page) -> None:
        page.locator("#inbox-table a", has_text="Decide").first.click()
        expect(page.locator("#decision-panel textarea")).to_have_count(1)

    def open_keys(page: Page) -> None:
        page.keyboard.press("?")
        expect(page.locator("#keys-dialog")).to_be_visible()

    def decide_by_keys(page: Page) -> None:
        page.keyboard.press("j")
        page.keyboard.press("a")
        expect(page.locator("#decision-dialog button[data-decision=approve]")).to_be_focused()

    def refuse_reject(page: Page) -> None:
        page.locator("#decision-panel button", has_text="Reject").click()
        expect(page.locator("#decision-panel")).to_contain_text("A reason is required")

    def refused_edit(page: Page) -> None:
        page.fill("#id_steps", "[{\"id\": \"a\",")
        page.click("button[type=submit].primary")
        expect(page.locator(".field.has-error")).not_to_have_count(0)

    def create_secret(page: Page) -> None:
        page.fill("#id_name", unique("bank-api-key"))
        page.fill("#id_value", "not-shown-again")
        page.click("button:text('Create secret')")
        expect(page.locator("#flash")).to_contain_text("Created secret")

    def upload_csv(page: Page) -> None:
        page.set_input_files("#launch-many input[type=file]", files=[{
            "name": "customers.csv", "mimeType": "text/csv", "buffer": b"customer\nKari\n\"unterminated\n"}])
        page.click("#launch-many button[type=submit]")
        expect(page.locator("h1")).to_contain_text("Bulk launch")

    def open_reveal(page: Page) -> None:
        page.locator("#journey-reveal summary").click()
        expect(page.get_by_label("Why do you need to see this person's data?")).to_be_visible()

    def refuse_reveal(page: Page) -> None:
        open_reveal(page)
        page.get_by_role("button", name=re.compile("Reveal for")).click()
        expect(page.locator("#journey-reveal")).to_contain_text("Say why")

    def find_person(page: Page) -> None:
        page.get_by_label("Value to forget").fill("Ada Lovelace")
        page.get_by_label("Request reference").fill(unique("DPO"))
        page.get_by_role("button", name="Find journeys").click()
        expect(page.locator("#erasure-found")).to_be_visible()

    workflow, journey = ids["workflow"], ids["journey"]
    return [
        ("dashboard", "/", None),
        ("journeys", "/journeys/", None),
        ("journeys-filtered", "/journeys/", filter_journeys),
        ("journey", f"/journeys/{journey}", None),
        ("journey-url-created", f"/journeys/{journey}", share_url),
        ("journey-note-edit", f"/journeys/{journey}", add_note),
        ("journey-approval", f"/journeys/{ids['approval']}", None),
        ("journey-reveal", f"/journeys/{ids['approval']}", open_reveal),
        ("journey-reveal-refused", f"/journeys/{ids['approval']}", refuse_reveal),
        ("inbox", "/approvals/", None),
        ("inbox-decision", "/approvals/", open_decision),
        ("inbox-decision-refused", "/approvals/", lambda page: (open_decision(page), refuse_reject(page))),
        ("inbox-decision-by-keys", "/approvals/", decide_by_keys),
        ("inbox-keys", "/approvals/", open_keys),
        ("inbox-waiting-on-others", "/approvals/?assignment=others", None),
        ("decide", f"/approvals/{ids['approval']}/decide", None),
        ("workflows", "/workflows/", None),
        ("workflow", f"/workflows/{workflow}", None),
        ("workflow-diff", f"/workflows/{workflow}/diff?left=1&right=2", None),
        ("workflow-edit", f"/workflows/{workflow}/edit", None),
        ("workflow-edit-refused", f"/workflows/{workflow}/edit", refused_edit),
        ("workflow-new", "/workflows/new", None),
        ("step-types", "/workflows/step-types", None),
        ("secrets", "/workflows/secrets", None),
        ("secret-created", "/workflows/secrets", create_secret),
        ("launches", "/launches/", None),
        ("launch-new", f"/launches/new/{workflow}/", None),
        ("bulk-uploaded", f"/launches/new/{workflow}/", upload_csv),
        ("launch", f"/launches/{ids['launch']}/", None),
        ("bulk-finished", f"/launches/bulk/{ids['bulk']}/", None),
        ("audit", "/audit/", None),
        ("personal-data", f"/privacy/workflows/{ids['approval_workflow']}", None),
        ("erasure", "/compliance/erasure", None),
        ("erasure-found", "/compliance/erasure", find_person),
        ("operations", "/operations/", None),
        ("not-found", "/journeys/no-such-journey", None),
    ]


def test_every_page_passes_axe_in_light_and_dark_mode_on_desktop_and_phone(
    chromium, live_server, superuser: User, api: Api, mint_settings, capsys
) -> None:
    ids = arrange(api, superuser)
    failures = []
    for scheme, width in MODES:
        report = AxeReport(f"accessibility-{scheme}-{width}")
        context = chromium.new_context(viewport={"width": width, "height": 900}, locale="en-GB",
                                       color_scheme=scheme, reduced_motion="reduce")
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            page.goto(f"{live_server.url}/login/")
            report.check(page, "login")
            login(page, live_server.url, superuser)
            for name, address, act in states(ids):
                page.goto(live_server.url + address)
                try:
                    if act:
                        act(page)
                except AssertionError as error:
                    # A state the keyboard or the layout keeps out of reach is a failure of its own.
                    screenshot(page, f"unreachable-{name}-{scheme}-{width}")
                    failures.append(f"--- {scheme} {width}px: {name} cannot be reached: {str(error).splitlines()[0]}")
                    continue
                report.check(page, name)
                if width < 768:
                    small = page.evaluate(SMALL_TARGETS, TOUCH_TARGETS)
                    if small:
                        failures.append(f"--- {scheme} {width}px: {name} has touch targets under 44 px: {small[:4]}")
        finally:
            context.close()
        path = report.write()
        with capsys.disabled():
            print(f"\naxe {scheme} {width}px: {path}")
        if report.blocking():
            failures.append(f"--- {scheme} {width}px\n{report.failure()}")
    assert not failures, "\n".join(failures)
