"""The approver's flow in real Chromium: sign in, see the inbox, open a journey, try to reject without a
reason (refused in place), then approve; the journey moves on. Screens go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from accounts.models import AuditEvent
from journeys.services.sync import journey_refresh
from mintportal.mint import get_client
from tests.e2e.conftest import login, screenshot
from tests.personas import approval_workflow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_approver_rejects_without_a_reason_is_refused_then_approves_and_the_journey_moves_on(
    browser_page, live_server, mint_settings, sandbox, approver: User
) -> None:
    client = get_client()
    workflow = approval_workflow_create(client, tags=["onboarding"], name="Onboarding approval")
    started = client.start_journey(workflow.id, input={"case": "Ada Lovelace"})
    journey_refresh(journey_id=started.journey_id)
    sandbox.reset_counters()
    page = browser_page

    login(page, live_server.url, approver)
    page.click("nav.mainnav >> text=My work")
    row = page.locator("#inbox-table tbody tr", has_text="Case Ada Lovelace")
    expect(row).to_contain_text("Approval")
    expect(row).to_contain_text(workflow.name or "")
    screenshot(page, "approvals-01-inbox")

    row.locator("a", has_text="Case Ada Lovelace").click()
    panel = page.locator("#decision-panel")
    expect(panel).to_contain_text("Approval step")
    screenshot(page, "approvals-02-journey")

    panel.locator("button", has_text="Reject").click()
    expect(page.locator("#decision-panel")).to_contain_text("A reason is required to reject.")
    assert sandbox.count("approveJourney") == 0
    screenshot(page, "approvals-03-reject-refused")

    page.fill("#decision-panel textarea[name=reason]", "Identity documents checked")
    page.locator("#decision-panel button", has_text="Approve").click()
    expect(page.locator("#flash")).to_contain_text("Approved. Mint has been told.")
    expect(page.locator("#journey-actions")).not_to_contain_text("Approval step")
    expect(page.locator("#journey-actions")).to_contain_text("after")
    screenshot(page, "approvals-04-approved")

    assert sandbox.count("approveJourney") == 1
    detail = client.get_journey(started.journey_id)
    assert [step.step_id for step in detail.active_steps] == ["after"]
    assert detail.step_data["check"]["message"] == "Approved by approver: Identity documents checked"
    assert AuditEvent.objects.filter(journey_id=started.journey_id, action="journey.approve", outcome="ok").count() == 1

    page.click("nav.mainnav >> text=My work")
    expect(page.locator("#inbox-table")).not_to_contain_text("Case Ada Lovelace")


def test_an_approver_rejects_from_the_inbox_panel_and_the_row_leaves_the_inbox(
    browser_page, live_server, mint_settings, sandbox, approver: User
) -> None:
    client = get_client()
    workflow = approval_workflow_create(client, tags=["onboarding"], name="Inbox approval")
    started = client.start_journey(workflow.id, input={"case": "Grace Hopper"})
    journey_refresh(journey_id=started.journey_id)
    page = browser_page

    login(page, live_server.url, approver)
    page.goto(f"{live_server.url}/approvals/")
    row = page.locator("#inbox-table tbody tr", has_text="Case Grace Hopper")
    row.locator("a", has_text="Decide").click()
    panel = page.locator("#decision-panel")
    expect(panel).to_contain_text("Approval step")
    page.fill("#decision-panel textarea[name=reason]", "Address does not match")
    screenshot(page, "approvals-05-inbox-panel")
    panel.locator("button", has_text="Reject").click()

    expect(page.locator("#decision-panel")).to_contain_text("Rejected. Mint has been told.")
    expect(page.locator("#inbox-table")).not_to_contain_text("Case Grace Hopper")
    screenshot(page, "approvals-06-inbox-after-reject")
    detail = client.get_journey(started.journey_id)
    assert detail.status == "faulted"
    assert detail.step_data["check"] == {"approved": False, "message": "Rejected by approver: Address does not match"}
