"""An admin's screens in real Chromium: workflows, a workflow's graph and versions, a diff, the editor with
Mint's refusal next to its field, the step-type catalogue and secrets. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.e2e.conftest import login, screenshot
from tests.sandbox.helpers import Api, link, step, unique

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def loan_workflow(api: Api) -> dict:
    definition = {
        "steps": [
            step("apply", "form", fields=[{"name": "amount", "label": "Amount", "type": "number"}]),
            step("big", "if-else", left="{{ steps.apply.amount }}", operator="gt", right=10000),
            step("check", "require-approval"),
            step("letter", "generate-document", filename="offer.txt", content="Offer"),
            step("declined", "send-email", to="applicant@example.com", subject="Declined"),
            step("done", "finish"),
        ],
        "connections": [
            link("apply", "big"), link("big", "check", "True"), link("big", "letter", "False"),
            link("check", "letter", "Approved"), link("check", "declined", "Rejected"),
            link("letter", "done"), link("declined", "done"),
        ],
    }
    about = {"tags": ["loans", "retail"], "inputParameters": [{"name": "customerId"}, {"name": "channel"}],
             "description": "Decides small loans at once and asks for approval above the limit.",
             "variables": {"limit": 10000}}
    workflow = api.create_workflow(definition, name=unique("Loan application"), **about)
    api.post(f"workflows/{workflow['id']}/files", files={"file": ("terms.txt", b"Terms", "text/plain")})
    definition["steps"][1]["properties"]["right"] = 20000
    api.put(f"workflows/{workflow['id']}", json={"name": workflow["name"], **definition, **about})
    return workflow


def test_an_admin_reads_and_edits_workflows(browser_page, live_server, superuser: User, api: Api,
                                            mint_settings) -> None:
    page = browser_page
    workflow = loan_workflow(api)
    login(page, live_server.url, superuser)

    page.click("nav.mainnav >> text=Workflows")
    page.fill("#id_q", workflow["name"])
    expect(page.locator("#workflow-table tbody tr")).to_have_count(1)
    screenshot(page, "10-workflows")

    page.click(f"#workflow-table >> text={workflow['name']}")
    expect(page.locator("svg.graph g.step")).to_have_count(6)
    expect(page.locator("svg.graph .edge-label text")).to_have_text(["True", "False", "Approved", "Rejected"])
    expect(page.locator("ul.versions li")).to_have_count(2)
    screenshot(page, "11-workflow-detail")

    page.click("button:text('Show differences')")
    expect(page.locator("table.diff td.del")).to_contain_text(["10000"])
    expect(page.locator("table.diff td.ins")).to_contain_text(["20000"])
    screenshot(page, "12-workflow-diff")

    page.goto(f"{live_server.url}/workflows/{workflow['id']}/edit")
    steps = json.loads(page.locator("#id_steps").input_value())
    steps[-1]["type"] = "teleport"
    page.fill("#id_steps", json.dumps(steps, indent=2))
    page.click("button:text('Save new version')")
    error = page.locator(".field.has-error .field-error")
    expect(error).to_contain_text(re.compile(r"Mint: steps\[5\]\.type"))
    expect(page.locator("#id_steps")).to_have_value(re.compile("teleport"))
    screenshot(page, "13-workflow-edit-refused")

    page.click("nav.mainnav >> text=Step types")
    page.fill("#id_q", "approval")
    expect(page.locator("#step-type-table tbody tr")).to_have_count(1)
    page.fill("#id_q", "")
    expect(page.locator("#step-type-table tbody tr")).to_have_count(13)
    screenshot(page, "14-step-types")

    page.click("nav.mainnav >> text=Secrets")
    page.fill("#id_name", unique("bank-api-key"))
    page.fill("#id_description", "Key for the bank's credit API")
    page.fill("#id_value", "super-secret-value")
    page.click("button:text('Create secret')")
    expect(page.locator("#flash")).to_contain_text("Created secret")
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    expect(page.locator("#id_value")).to_have_value("")
    assert "super-secret-value" not in page.content()
    screenshot(page, "15-secrets")
