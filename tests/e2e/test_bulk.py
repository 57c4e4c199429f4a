"""Bulk actions in real Chromium with a real Celery worker: an operator re-issues journey URLs for 50 journeys and
downloads the results CSV; an approver ticks journeys in "My work" and the dry run shows, per journey, why some
are refused. axe-core finds no serious or critical violation on any of the screens. Screens go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from journeys.services.claims import claim_take
from journeys.services.sync import journey_refresh
from launches.models import Launch, LaunchStatus
from mintportal.mint import get_client, models
from tests.e2e.accessibility import AxeReport
from tests.e2e.conftest import LIVE_TIMEOUT_MS, login, screenshot
from tests.mint_parts import link, step, unique
from tests.personas import approval_workflow_create, place_workflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL_JOURNEYS = 50


def axe_clean(report: AxeReport, page: Page, state: str) -> None:
    report.check(page, state)
    report.write()
    assert not report.blocking(), report.failure()


def test_an_operator_reissues_urls_for_50_journeys_and_downloads_the_csv(
    browser_page: Page, live_server, operator: User, mint_settings, celery_worker
) -> None:
    client = get_client()
    workflow = client.create_workflow(models.WorkflowInput(
        name=unique("Expired links"),
        steps=[step("name", "set-name", template="Customer {{ input.case }}"),
               step("details", "form", fields=[{"name": "phone", "label": "Phone", "type": "text"}]),
               step("end", "finish")],
        connections=[link("name", "details"), link("details", "end")],
        input_parameters=[models.WorkflowInputParameter(name="case")],
    ))
    place_workflow(workflow.id, tags=["onboarding"], name=workflow.name or "")
    ids = []
    for number in range(URL_JOURNEYS):
        started = client.start_journey(workflow.id, input={"case": f"C-{number:03d}"})
        journey_refresh(journey_id=started.journey_id)
        ids.append(started.journey_id)
    page = browser_page
    report = AxeReport("bulk-urls")
    login(page, live_server.url, operator)

    # "Act on all N matching" on the journeys list leads here with the list's filters.
    page.goto(f"{live_server.url}/bulk/new?all=1&workflow={workflow.id}&status=active")
    expect(page.locator("h1")).to_have_text(f"Act on {URL_JOURNEYS} journeys")
    page.get_by_label("Create new journey URLs").check()
    axe_clean(report, page, "new")
    screenshot(page, "bulk-urls-01-form")
    page.get_by_role("button", name="Dry run").click()

    expect(page.locator("#dry-run-summary [data-count=will_act]")).to_have_text(str(URL_JOURNEYS))
    expect(page.locator("#dry-run-summary [data-count=refused]")).to_have_text("0")
    axe_clean(report, page, "dry-run")
    screenshot(page, "bulk-urls-02-dry-run")
    page.get_by_role("button", name=f"Create new journey URLs for {URL_JOURNEYS} journeys").click()

    expect(page.locator("#bulk-progress h2")).to_have_text("Finished", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#bulk-progress [data-count=done]")).to_have_text(str(URL_JOURNEYS))
    axe_clean(report, page, "finished")
    screenshot(page, "bulk-urls-03-finished")
    with page.expect_download() as download:
        page.locator("#bulk-results-link").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))

    assert sorted(row["journey_id"] for row in rows) == sorted(ids)
    for row in rows:
        assert row["name"].startswith("Customer C-") and row["status"] == "done"
        assert row["journey_url"].startswith("http") and row["expires_at"] > timezone.now().isoformat()


def test_an_approvers_bulk_approve_shows_refused_rows_with_their_reasons_in_the_dry_run(
    browser_page: Page, live_server, approver: User, approver2: User, mint_settings, celery_worker
) -> None:
    client = get_client()
    workflow = approval_workflow_create(client, tags=["onboarding"], name="Bulk approval")

    def started(case: str, *, launched_by: User | None = None) -> str:
        journey_id = client.start_journey(workflow.id, input={"case": case}).journey_id
        if launched_by is not None:
            Launch.objects.create(key=f"e2e-{journey_id}", workflow_id=workflow.id, journey_url_ttl=60,
                                  status=LaunchStatus.STARTED, created_by=launched_by, created_at=timezone.now(),
                                  journey_id=journey_id)
        journey_refresh(journey_id=journey_id)
        return journey_id

    fine = started("Fine")
    own = started("Own", launched_by=approver)
    held = started("Held")
    claim_take(actor=approver2, journey_id=held)
    page = browser_page
    report = AxeReport("bulk-approve")
    login(page, live_server.url, approver)

    page.goto(f"{live_server.url}/approvals/")
    page.get_by_label("Select every journey on this page").check()
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")
    axe_clean(report, page, "inbox-ticked")
    page.get_by_role("button", name="Approve selected…").click()
    expect(page.locator("h1")).to_have_text("Act on 3 journeys")
    expect(page.get_by_label("Approve", exact=True)).to_be_checked()
    page.get_by_role("button", name="Dry run").click()

    expect(page.locator("#dry-run-summary [data-count=will_act]")).to_have_text("1")
    expect(page.locator(f'#bulk-items tr[data-journey="{fine}"]')).to_contain_text("Will act")
    expect(page.locator(f'#bulk-items tr[data-journey="{own}"]')).to_contain_text(
        "Refused Your own launch: another approver must approve it.")
    expect(page.locator(f'#bulk-items tr[data-journey="{held}"]')).to_contain_text(
        "Refused Claimed by someone else: This case is held by approver2")
    axe_clean(report, page, "dry-run")
    screenshot(page, "bulk-approve-01-dry-run")
    page.get_by_role("button", name="Approve 1 journey").click()

    expect(page.locator("#bulk-progress h2")).to_have_text("Finished", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator(f'#bulk-items tr[data-journey="{fine}"]')).to_contain_text("Approved. Mint has been told.")
    axe_clean(report, page, "finished")
    screenshot(page, "bulk-approve-02-finished")
    assert client.get_journey(fine).active_steps[0].step_id == "after"
    assert client.get_journey(own).active_steps[0].step_id == "check"


def test_ticked_inbox_rows_stay_ticked_when_the_table_redraws_and_x_ticks_the_current_row(
    browser_page: Page, live_server, approver: User, mint_settings
) -> None:
    client = get_client()
    workflow = approval_workflow_create(client, tags=["onboarding"], name="Ticks")
    ids = []
    for case in ("T-1", "T-2", "T-3"):
        journey_id = client.start_journey(workflow.id, input={"case": case}).journey_id
        journey_refresh(journey_id=journey_id)
        ids.append(journey_id)
    page = browser_page
    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")
    expect(page.get_by_role("button", name="Approve selected…")).to_be_disabled()

    page.locator(f'tr[data-journey="{ids[0]}"] input[data-select]').check()
    # The table redraws as after a decision elsewhere (its poll does the same every 15 s).
    with page.expect_response(lambda response: "/approvals/" in response.url):
        page.evaluate("htmx.trigger(document.body, 'approval-decided')")
    expect(page.locator(f'tr[data-journey="{ids[0]}"] input[data-select]')).to_be_checked()
    # The row ticked by hand is the current one; j moves to the next, x ticks it.
    page.keyboard.press("j")
    page.keyboard.press("x")

    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    expect(page.locator(f'tr[data-journey="{ids[1]}"] input[data-select]')).to_be_checked()
    page.get_by_role("button", name="Reject selected…").click()
    expect(page.locator("h1")).to_have_text("Act on 2 journeys")
    expect(page.get_by_label("Reject", exact=True)).to_be_checked()
