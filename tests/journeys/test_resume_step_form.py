"""Continuing a manual step through its form: the demo's address change, typed answers checked before Mint is
asked, the raw JSON kept for people who manage the workflow, and the form an admin edits."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from mintportal.mint import get_client
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, link, step
from workflows.models import StepForm
from workflows.services import step_form_save
from workflows.stepforms import CHOICE, DATE, NUMBER, FormField

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def named(step_id: str, step_type: str, display_name: str, **properties: Any) -> dict[str, Any]:
    return {**step(step_id, step_type, **properties), "displayName": display_name}


def address_change(*, with_review: bool = False) -> dict[str, Any]:
    """The demo's address change (sandbox/demo.py, version 1): a suspend step ``verify`` whose output's
    ``verified`` decides the way on and whose ``handledBy`` goes into the confirmation; unverified faults."""
    steps = [
        named("name", "set-name", "Name the journey",
             template="Address change – {{ input.customerName }}"),
        named("verify", "suspend", "Verify proof of address"),
        named("verified", "if-else", "Verified?", left="{{ steps.verify.verified }}", operator="eq",
             right=True),
        named("confirmation", "generate-document", "Confirmation", format="text",
             filename="address-confirmation.txt",
             content="New address for {{ input.customerName }}. Verified by {{ steps.verify.handledBy }}."),
        named("done", "finish", "Address updated"),
        named("unverified", "trigger-alert", "Flag failed check", severity="critical",
             message="Proof of address for {{ input.customerName }} could not be verified."),
        named("failed", "fault", "Not verified", message="The new address could not be verified."),
    ]
    connections = [link("name", "verify"), link("verify", "verified"), link("verified", "confirmation", "True"),
                   link("verified", "unverified", "False"), link("unverified", "failed")]
    if with_review:
        # A second manual step after the confirmation, so a continued journey visibly waits again.
        steps.append(named("archive", "suspend", "Archive the proof"))
        connections += [link("confirmation", "archive"), link("archive", "done")]
    else:
        connections.append(link("confirmation", "done"))
    return {"steps": steps, "connections": connections}


def start(api: Api, definition: dict[str, Any]) -> dict[str, Any]:
    workflow = api.create_workflow(definition, inputParameters=[{"name": "customerName"}])
    place_workflow(workflow["id"], tags=["customer-service"], name=workflow["name"])
    journey_id = api.start(workflow["id"], {"customerName": "Kari Nordmann"})["journeyId"]
    return {"workflow": workflow, "journey_id": journey_id,
            "url": reverse("journeys:detail", kwargs={"journey_id": journey_id}),
            "resume": reverse("journeys:resume", kwargs={"journey_id": journey_id})}


@pytest.fixture
def address(api: Api, mint_settings) -> dict[str, Any]:
    return start(api, address_change())


@pytest.fixture
def handler(client: Client, case_handler: User) -> Client:
    client.force_login(case_handler)
    return client


def waiting_at(api: Api, journey_id: str) -> tuple[str, list[str]]:
    journey = api.journey(journey_id)
    return journey["status"], [active["stepId"] for active in journey.get("activeSteps") or []]


def test_the_page_asks_the_handler_for_the_keys_the_workflow_reads(handler: Client, address: dict) -> None:
    html = handler.get(address["url"]).content.decode()
    assert '<select name="f_verified"' in html and '<option value="yes">Yes</option>' in html
    assert '<label for="id_verify_f_handledBy">Handled by</label>' in html
    assert "Read by “Confirmation”." in html
    # The handler does not manage the workflow: no raw JSON for them.
    assert "Advanced: raw JSON" not in html and 'name="input"' not in html


def test_continuing_through_the_form_moves_the_journey_on(handler: Client, address: dict, api: Api,
                                                        case_handler: User) -> None:
    response = handler.post(address["resume"], {"step_id": "verify", "f_verified": "yes", "f_handledBy": "Ann"})
    assert response.status_code == 302
    journey = api.journey(address["journey_id"])
    assert journey["status"] == "finished"
    assert journey["stepData"]["verify"] == {"verified": True, "handledBy": "Ann"}
    event = AuditEvent.objects.get(action="journey.resume")
    assert (event.outcome, event.actor, event.detail["input_keys"]) == ("ok", case_handler, ["handledBy", "verified"])
    page = handler.get(response["Location"]).content.decode()
    assert "Continued step “verify”; the journey is now finished." in page


def test_the_message_says_where_the_journey_waits_now(handler: Client, api: Api, mint_settings) -> None:
    case = start(api, address_change(with_review=True))
    response = handler.post(case["resume"], {"step_id": "verify", "f_verified": "yes", "f_handledBy": "Ann"},
                            follow=True)
    assert "Continued step “verify”; now waiting at step “archive” (suspend)." in response.content.decode()
    assert waiting_at(api, case["journey_id"]) == ("active", ["archive"])


def test_a_journey_that_faults_after_the_continue_says_so_as_an_error(handler: Client, address: dict,
                                                                     api: Api) -> None:
    response = handler.post(address["resume"], {"step_id": "verify", "f_verified": "no", "f_handledBy": "Ann"},
                            follow=True)
    html = response.content.decode()
    assert 'class="flash flash-error"' in html
    assert "Continued step “verify”, but the journey faulted: Proof of address for Kari Nordmann could not be " \
           "verified." in html
    assert api.journey(address["journey_id"])["status"] == "faulted"


def test_an_empty_form_is_refused_naming_the_fields_and_the_journey_still_waits(
    handler: Client, address: dict, api: Api, sandbox
) -> None:
    handler.get(address["url"])
    sandbox.reset_counters()
    response = handler.post(address["resume"], {"step_id": "verify"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 400
    assert html.strip().startswith('<section id="journey-actions"')
    assert "“Verified” is required." in html and "“Handled by” is required." in html
    assert sandbox.count("resumeJourney") == 0
    assert waiting_at(api, address["journey_id"]) == ("active", ["verify"])
    assert not AuditEvent.objects.filter(action="journey.resume").exists()


def test_what_was_typed_is_kept_beside_the_error(handler: Client, address: dict) -> None:
    response = handler.post(address["resume"], {"step_id": "verify", "f_verified": "maybe", "f_handledBy": "Ann"},
                            headers=HTMX)
    html = response.content.decode()
    assert "“Verified”: answer yes or no." in html
    assert 'value="Ann"' in html


@pytest.mark.parametrize("posted", [
    {"f_verified": "yes"},  # a required answer missing
    {"f_verified": "1", "f_handledBy": "Ann"},  # not yes or no
    {"f_verified": "yes", "f_handledBy": "Ann", "f_approvedBy": "me"},  # a key the form does not ask for
])
def test_a_forged_post_gets_the_forms_refusals_and_never_reaches_mint(
    handler: Client, address: dict, api: Api, sandbox, posted: dict
) -> None:
    sandbox.reset_counters()
    response = handler.post(address["resume"], {"step_id": "verify", **posted})
    assert response.status_code == 400
    assert sandbox.count("resumeJourney") == 0
    assert waiting_at(api, address["journey_id"]) == ("active", ["verify"])


def test_raw_json_from_a_handler_is_refused(handler: Client, address: dict, api: Api, sandbox) -> None:
    sandbox.reset_counters()
    response = handler.post(address["resume"], {"step_id": "verify", "input": '{"verified": true, "handledBy": "x"}'})
    assert response.status_code == 403
    assert "Only people who manage this workflow may continue a step with raw JSON" in response.content.decode()
    assert sandbox.count("resumeJourney") == 0
    assert AuditEvent.objects.get(action="journey.resume").outcome == "refused"


@pytest.mark.parametrize(("step_id", "status"), [("verified", 409), ("no-such-step", 409)])
def test_another_step_is_refused_before_its_answers_are_read(handler: Client, address: dict, sandbox,
                                                             step_id: str, status: int) -> None:
    sandbox.reset_counters()
    response = handler.post(address["resume"], {"step_id": step_id, "f_verified": "yes", "f_handledBy": "A"})
    assert response.status_code == status
    assert sandbox.count("resumeJourney") == 0


def test_an_admin_may_send_raw_json_with_extra_keys_but_the_forms_keys_are_still_checked(
    client: Client, admin: User, address: dict, api: Api
) -> None:
    client.force_login(admin)
    assert "Advanced: raw JSON" in client.get(address["url"]).content.decode()
    refused = client.post(address["resume"], {"step_id": "verify", "input": '{"verified": "perhaps", "note": 1}'})
    assert refused.status_code == 400
    assert "“Verified”: answer yes or no." in refused.content.decode()
    assert "“Handled by” is required." in refused.content.decode()
    accepted = client.post(address["resume"], {
        "step_id": "verify", "input": '{"verified": true, "handledBy": "Admin", "note": 1}'})
    assert accepted.status_code == 302
    assert api.journey(address["journey_id"])["stepData"]["verify"] == {
        "verified": True, "handledBy": "Admin", "note": 1}


def test_the_handler_sees_the_form_the_admin_edited(client: Client, admin: User, case_handler: User,
                                                    address: dict, api: Api) -> None:
    workflow = address["workflow"]
    client.force_login(admin)
    detail = client.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]})).content.decode()
    editor = reverse("workflows:step_form", kwargs={"workflow_id": workflow["id"], "version": workflow["version"],
                                                    "step_id": "verify"})
    assert f'href="{editor}"' in detail
    draft = client.get(editor).content.decode()
    assert "Not saved yet: a draft read from the definition" in draft
    response = client.post(editor, {
        "form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "2", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "50",
        "form-0-key": "verified", "form-0-label": "Proof of address checked?", "form-0-type": "yesno",
        "form-0-required": "on", "form-0-ORDER": "2", "form-0-help_text": "A utility bill or a bank statement.",
        "form-1-key": "handledBy", "form-1-label": "Your initials", "form-1-type": "text", "form-1-required": "on",
        "form-1-ORDER": "1", "form-1-default": "",
        "form-2-key": "", "form-2-type": "text", "form-2-required": "on",
    })
    assert response.status_code == 302, response.content.decode()
    saved = StepForm.objects.get(workflow_id=workflow["id"], step_id="verify")
    assert [item["key"] for item in saved.fields] == ["handledBy", "verified"]
    event = AuditEvent.objects.get(action="workflow.step_form.save")
    assert (event.actor, event.workflow_id, event.detail["keys"]) == (admin, workflow["id"], ["handledBy", "verified"])

    client.force_login(case_handler)
    html = client.get(address["url"]).content.decode()
    assert "Proof of address checked?" in html and "Your initials" in html
    assert "A utility bill or a bank statement." in html
    assert html.index("Your initials") < html.index("Proof of address checked?")


def test_answers_reach_mint_typed(handler: Client, api: Api, mint_settings, superuser: User) -> None:
    definition = {"steps": [named("assess", "suspend", "Assess the risk"),
                            named("high", "if-else", "High risk?", left="{{ steps.assess.score }}", operator="gt",
                                  right=70),
                            named("done", "finish", "Done")],
                  "connections": [link("assess", "high"), link("high", "done", "False")]}
    case = start(api, definition)
    workflow = get_client().get_workflow(case["workflow"]["id"], version=case["workflow"]["version"])
    step_form_save(actor=superuser, workflow=workflow, step_id="assess", fields=[
        FormField(key="score", label="Score", type=NUMBER), FormField(key="ratio", label="Ratio", type=NUMBER),
        FormField(key="due", label="Due", type=DATE), FormField(key="level", label="Level", type=CHOICE,
                                                               choices=("low", "high")),
        FormField(key="note", label="Note", required=False)])
    response = handler.post(case["resume"], {"step_id": "assess", "f_score": "42", "f_ratio": "0.5",
                                             "f_due": "2026-03-01", "f_level": "low", "f_note": ""})
    assert response.status_code == 302
    assert api.journey(case["journey_id"])["stepData"]["assess"] == {
        "score": 42, "ratio": 0.5, "due": "2026-03-01", "level": "low"}
    assert api.journey(case["journey_id"])["status"] == "finished"
