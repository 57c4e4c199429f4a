"""Approving and rejecting through the pages: the decision panel, with and without htmx."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_decision_page_is_for_approvers_of_the_journeys_workflow_only(
    approval_workflow, start, approver, case_handler, outsider
):
    inside = start(approval_workflow(tags=["onboarding"]), "V-1")
    outside = start(approval_workflow(tags=["batch"]), "V-2")

    page = signed_in(approver).get(f"/approvals/{inside.id}/decide")
    assert page.status_code == 200 and "Approval step" in page.content.decode()
    refused = signed_in(case_handler).get(f"/approvals/{inside.id}/decide")
    assert refused.status_code == 403 and "does not allow approving" in refused.content.decode()
    assert signed_in(approver).get(f"/approvals/{outside.id}/decide").status_code == 404
    assert signed_in(outsider).get(f"/approvals/{inside.id}/decide").status_code == 404
    assert signed_in(approver).get("/approvals/no-such-journey/decide").status_code == 404


def test_rejecting_without_a_reason_is_refused_in_place_then_an_approval_moves_the_journey_on(
    sandbox, approval_workflow, start, mint, approver
):
    journey = start(approval_workflow(tags=["onboarding"]), "H-1")
    client = signed_in(approver)
    sandbox.reset_counters()

    refused = client.post(f"/approvals/{journey.id}/decide", {
        "step_id": "check", "occurrence": "1", "decision": "reject", "reason": ""}, headers=HTMX)
    assert refused.status_code == 400
    assert "A reason is required to reject." in refused.content.decode()
    assert sandbox.count("approveJourney") == 0 and not AuditEvent.objects.exists()

    approved = client.post(f"/approvals/{journey.id}/decide", {
        "step_id": "check", "occurrence": "1", "decision": "approve", "reason": "Fine"}, headers=HTMX)
    assert approved.status_code == 200
    # Only the forms region is redrawn: the journey's data above it stays as it was read.
    assert approved.content.decode().lstrip().startswith('<div id="decision-forms"')
    assert "Approved. Mint has been told." in approved.content.decode()
    assert json.loads(approved["HX-Trigger"])["approval-decided"] == {"journey_id": journey.id}
    assert [step.step_id for step in mint.get_journey(journey.id).active_steps] == ["after"]
    assert "H-1" not in client.get("/approvals/").content.decode()


def test_a_second_submission_without_htmx_redirects_with_already_decided(approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "N-1")
    client = signed_in(approver)
    form = {"step_id": "check", "occurrence": "1", "decision": "approve", "next": "/approvals/"}

    first = client.post(f"/approvals/{journey.id}/decide", form, follow=True)
    second = client.post(f"/approvals/{journey.id}/decide", form, follow=True)

    assert first.redirect_chain[-1][0] == "/approvals/"
    assert "Approved. Mint has been told." in first.content.decode()
    assert "Already decided by approver at" in second.content.decode()
    assert AuditEvent.objects.filter(action="journey.approve").count() == 1


def test_next_may_not_send_the_user_to_another_site(approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "X-1")
    response = signed_in(approver).post(f"/approvals/{journey.id}/decide", {
        "step_id": "check", "occurrence": "1", "decision": "approve", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/approvals/"


def test_the_launcher_is_told_another_approver_must_approve(approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "L-1", launched_by=approver)
    client = signed_in(approver)

    assert "another approver must approve it" in client.get(f"/approvals/{journey.id}/decide").content.decode()
    response = client.post(f"/approvals/{journey.id}/decide", {
        "step_id": "check", "occurrence": "1", "decision": "approve"}, headers=HTMX)
    assert response.status_code == 400 and "You launched this journey" in response.content.decode()


def test_a_decision_from_the_journey_page_reloads_it_with_the_result(approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "J-1")
    client = signed_in(approver)
    page = client.get(f"/journeys/{journey.id}").content.decode()
    # The journey page loads the approvals app's own decision panel into its waiting steps.
    panel_url = f"/approvals/{journey.id}/decide?embedded=1&amp;next=/journeys/{journey.id}"
    assert f'hx-get="{panel_url}" hx-trigger="load"' in page
    panel = client.get(panel_url.replace("&amp;", "&"), headers=HTMX).content.decode()
    assert "Approval step" in panel and f'name="next" value="/journeys/{journey.id}"' in panel
    # Part of the page, not a card of its own nor a sheet over it, it leaves the focus where it is on load, and
    # it reads nothing of the journey that the page around it already shows.
    assert '<section id="decision-panel" class="decision-panel stack">' in panel
    assert "Step data" not in panel
    assert 'name="embedded" value="1"' in panel

    response = client.post(f"/approvals/{journey.id}/decide", {
        "step_id": "check", "occurrence": "1", "decision": "approve", "next": f"/journeys/{journey.id}"},
        headers=HTMX)

    assert response["HX-Redirect"] == f"/journeys/{journey.id}"
    reloaded = client.get(f"/journeys/{journey.id}").content.decode()
    assert "Approved. Mint has been told." in reloaded and "Approval step" not in reloaded
