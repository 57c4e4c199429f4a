"""The decision panel shows what an approver needs before deciding: the journey's data, alerts, files, notes, the
input it was launched with and the approvals so far; and nothing of a journey outside the approver's scope."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from journeys.models import Journey
from launches.models import Launch, LaunchStatus
from mintportal.mint import MintClient, models
from tests.mint_parts import link, step
from tests.personas import place_workflow
from tests.sandbox_process import free_port

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alerting_workflow(mint: MintClient) -> Callable[..., str]:
    """A workflow that raises a warning alert, writes a file, then waits for approval ``check``."""

    def create(*, tags: list[str]) -> str:
        workflow = mint.create_workflow(models.WorkflowInput(
            name=f"Alerting {uuid.uuid4().hex[:8]}",
            steps=[
                step("name", "set-name", template="Case {{ input.case }}"),
                step("flag", "trigger-alert", severity="warning", message="Address changed {{ input.case }}"),
                step("doc", "generate-document", filename="{{ input.case }}-summary.txt", content="Summary"),
                step("check", "require-approval"), step("end", "finish"),
            ],
            connections=[link("name", "flag"), link("flag", "doc"), link("doc", "check"), link("check", "end")],
            input_parameters=[models.WorkflowInputParameter(name="case")],
        ))
        place_workflow(workflow.id, tags=tags, name=workflow.name or "")
        return workflow.id

    return create


def vote(client: Client, journey: Journey, reason: str) -> str:
    response = client.post(f"/approvals/{journey.id}/decide", {
        "step_id": "check", "occurrence": "1", "decision": "approve", "reason": reason}, headers=HTMX)
    assert response.status_code == 200, response.content.decode()
    return response.content.decode()


def test_the_panel_shows_the_journeys_alerts_files_step_data_and_notes(
    alerting_workflow, start, mint, approver
):
    journey = start(alerting_workflow(tags=["onboarding"]), "P-1")
    mint.create_journey_note(journey.id, content="Customer called about the address", step_id="check")
    file_id = mint.get_journey(journey.id).files[0].id

    panel = signed_in(approver).get(f"/approvals/{journey.id}/decide", headers=HTMX).content.decode()

    assert "Address changed P-1" in panel and "alert-warning" in panel
    assert f'href="/journeys/{journey.id}/files/{file_id}"' in panel and "P-1-summary.txt" in panel
    assert "Step data" in panel and "<code>flag</code>" in panel
    assert "Customer called about the address" in panel
    # The journey's page link, and the form below it all.
    assert f'href="/journeys/{journey.id}"' in panel and "Approval step <code>check</code>" in panel


def test_the_panel_shows_the_input_the_journey_was_launched_with(approval_workflow, start, approver, operator):
    journey = start(approval_workflow(tags=["onboarding"]), "I-1")
    Launch.objects.create(
        key=f"test-{journey.id}", workflow_id=journey.workflow_id, journey_url_ttl=60, status=LaunchStatus.STARTED,
        created_by=operator, created_at=timezone.now(), journey_id=journey.id, input={"case": "I-1", "iban": "NO93"},
    )

    panel = signed_in(approver).get(f"/approvals/{journey.id}/decide").content.decode()

    assert "as launched through the portal" in panel and "&quot;iban&quot;: &quot;NO93&quot;" in panel


def test_the_approvals_so_far_are_listed_with_who_when_and_why(approval_workflow, start, approver, approver2):
    journey = start(approval_workflow(tags=["contracts"]), "V-1")

    after_vote = vote(signed_in(approver), journey, "Documents match the register")

    assert "Your approval is recorded (1 of 2)" in after_vote
    panel = signed_in(approver2).get(f"/approvals/{journey.id}/decide", headers=HTMX).content.decode()
    assert "Needs 2 distinct approvers; 1 so far." in panel
    assert "<strong>approver</strong> approved" in panel and "<q>Documents match the register</q>" in panel
    assert "<time" in panel
    # The second approver may still approve; the first is told they are waiting for another.
    assert 'data-decision="approve"' in panel
    own = signed_in(approver).get(f"/approvals/{journey.id}/decide", headers=HTMX).content.decode()
    assert "You have approved; waiting for another approver." in own and 'data-decision="approve"' not in own


def test_a_journey_outside_the_scope_is_not_found_and_nothing_of_it_is_shown(
    alerting_workflow, start, mint, approver, outsider
):
    journey = start(alerting_workflow(tags=["batch"]), "Secret-9")
    mint.create_journey_note(journey.id, content="Private remark")

    for user in (approver, outsider):
        for headers in ({}, HTMX):
            response = signed_in(user).get(f"/approvals/{journey.id}/decide", headers=headers)
            body = response.content.decode()
            assert response.status_code == 404
            assert "Secret-9" not in body and "Private remark" not in body and "Address changed" not in body


def test_after_a_vote_in_a_two_approver_rule_the_journey_waits_on_others(approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["contracts"]), "W-1")
    client = signed_in(approver)
    before = client.get("/approvals/").content.decode()
    assert "Case W-1" in before

    vote(client, journey, "")

    everything = client.get("/approvals/").content.decode()
    others = client.get("/approvals/", {"assignment": "others"}).content.decode()
    assert "Case W-1" not in everything
    assert 'assignment=others">1 you approved waits on other approvers.</a>' in everything
    assert "Case W-1" in others and 'aria-current="page" data-tab="others"' in others
    assert 'data-tab="others">Waiting on others <span class="count">1</span>' in others


def test_the_tabs_keep_the_other_filters_and_a_bad_tab_is_named(approval_workflow, start, approver):
    workflow_id = approval_workflow(tags=["onboarding"])
    start(workflow_id, "T-1")
    client = signed_in(approver)

    page = client.get("/approvals/", {"workflow": workflow_id, "kind": "approval", "page": "1"}).content.decode()
    assert f'href="/approvals/?workflow={workflow_id}&amp;kind=approval&amp;assignment=mine"' in page
    assert f'href="/approvals/?workflow={workflow_id}&amp;kind=approval" aria-current="page"' in page

    bad = client.get("/approvals/", {"assignment": "everyone"})
    assert bad.status_code == 400 and "Tab: Select a valid choice." in bad.content.decode()


def test_when_mint_is_down_the_panel_says_so_and_still_offers_the_decision(
    approval_workflow, start, approver, settings
):
    journey = start(approval_workflow(tags=["onboarding"]), "O-1")
    settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    settings.MINT_MAX_RETRIES = 0

    response = signed_in(approver).get(f"/approvals/{journey.id}/decide")

    html = response.content.decode()
    assert response.status_code == 200 and 'id="mint-outage"' in html
    assert "The decision can still be made." in html and "Approval step <code>check</code>" in html
    assert "Step data" not in html and "Traceback" not in html


def test_a_journey_decided_in_mint_meanwhile_offers_no_form(approval_workflow, start, mint, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "G-1")
    # Decided outside the portal: the mirror still says the approval waits until the panel reads the journey.
    mint.approve_journey(journey.id, step_id="check", approved=True, message="Done in Mint")

    panel = signed_in(approver).get(f"/approvals/{journey.id}/decide", headers=HTMX).content.decode()

    assert "This journey is not waiting for an approval you may decide." in panel
    assert "Approval step" not in panel and "Done in Mint" in panel
