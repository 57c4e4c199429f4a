"""Creating and editing workflows: limits checked before Mint, Mint's refusals next to their fields, nothing lost."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, step, unique

pytestmark = pytest.mark.django_db
CREATE = reverse("workflows:create")


def form_body(**overrides: str) -> dict[str, str]:
    body = {
        "name": unique("edited"),
        "description": "",
        "tags": "",
        "input_parameters": "customer",
        "steps": json.dumps([{"id": "wait", "type": "suspend"}, {"id": "end", "type": "finish"}]),
        "connections": json.dumps([{"sourceStepId": "wait", "targetStepId": "end"}]),
        "variables": "",
    }
    body.update(overrides)
    return body


def test_the_create_page_has_the_step_type_catalogue_beside_the_form(root_client: Client, mint_settings) -> None:
    html = root_client.get(CREATE).content.decode()
    assert 'name="steps"' in html and 'class="card catalogue"' in html
    assert "<code>require-approval</code>" in html and "<code>Approved</code>" in html


@pytest.mark.parametrize("field, value, message", [
    ("steps", '[{"id": "a", "type": "finish"', "Not valid JSON at line 1, column 30"),
    ("steps", '{"id": "a"}', "Enter a list"),
    ("steps", json.dumps([{"id": f"s{i}", "type": "finish"} for i in range(251)]), "At most 250 steps"),
    ("steps", '[{"id": "a", "type": "finish"}, {"id": "a", "type": "finish"}]', "is used twice"),
    ("connections", '[{"sourceStepId": "wait", "targetStepId": "nowhere"}]', "names no step"),
    ("variables", "[1, 2]", "Enter an object"),
    ("name", "n" * 256, "at most 255 characters"),
    ("description", "d" * 5001, "at most 5000 characters"),
])
def test_limits_are_checked_before_calling_mint_and_the_input_is_kept(
    root_client: Client, sandbox, mint_settings, field: str, value: str, message: str
) -> None:
    calls = sandbox.count("createWorkflow")
    response = root_client.post(CREATE, form_body(**{field: value}))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert f'name="{field}"' in html
    # What the user typed comes back as typed (escaped), so nothing is lost.
    assert value.replace('"', "&quot;")[:200] in html
    assert sandbox.count("createWorkflow") == calls


def test_mints_invalid_params_are_shown_next_to_the_field_they_name(root_client: Client, sandbox, mint_settings,
                                                                    superuser: User) -> None:
    steps = json.dumps([{"id": "wait", "type": "suspend"}, {"id": "end", "type": "teleport"}])
    response = root_client.post(CREATE, form_body(steps=steps))
    html = response.content.decode()
    assert response.status_code == 400
    steps_field = html[html.index('<label for="id_steps">'):html.index('<label for="id_connections">')]
    assert "Mint: steps[1].type:" in steps_field
    assert "&quot;teleport&quot;" in steps_field
    event = AuditEvent.objects.get(action="workflow.create")
    assert event.outcome == "failed" and event.trace_id and event.actor == superuser


def test_creating_a_workflow_redirects_to_it_with_a_confirmation(root_client: Client, api: Api,
                                                                 mint_settings) -> None:
    body = form_body()
    response = root_client.post(CREATE, body, follow=True)
    html = response.content.decode()
    assert f"Created workflow “{body['name']}” (version 1)." in html
    workflow_id = response.redirect_chain[-1][0].rstrip("/").split("/")[-1]
    assert api.get(f"workflows/{workflow_id}").json()["inputParameters"] == [{"name": "customer"}]
    assert AuditEvent.objects.get(action="workflow.create").workflow_id == workflow_id


def test_editing_saves_a_new_version_and_the_pages_show_it_at_once(root_client: Client, api: Api,
                                                                   mint_settings) -> None:
    workflow = api.create_workflow({"steps": [step("end", "finish")]}, name=unique("before"))
    detail = reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]})
    edit = reverse("workflows:edit", kwargs={"workflow_id": workflow["id"]})
    assert workflow["name"] in root_client.get(detail).content.decode()
    assert workflow["name"] in root_client.get(reverse("workflows:list"), {"q": workflow["name"]}).content.decode()
    form = root_client.get(edit).content.decode()
    assert "&quot;id&quot;: &quot;end&quot;" in form and f'value="{workflow["name"]}"' in form

    renamed = unique("after")
    response = root_client.post(edit, form_body(name=renamed), follow=True)
    html = response.content.decode()
    assert f"Saved “{renamed}” as version 2." in html
    # The write invalidated the cached definition and listings: no stale name anywhere.
    assert renamed in root_client.get(detail).content.decode()
    assert renamed in root_client.get(reverse("workflows:list"), {"q": renamed}).content.decode()
    assert AuditEvent.objects.filter(action="workflow.update", outcome="ok").count() == 1


def test_only_managers_may_create_or_edit(client: Client, case_handler: User, api: Api, mint_settings) -> None:
    workflow = api.create_workflow({"steps": [step("end", "finish")]})
    place_workflow(workflow["id"], tags=["onboarding"])
    client.force_login(case_handler)
    assert client.get(CREATE).status_code == 403
    assert client.get(reverse("workflows:edit", kwargs={"workflow_id": workflow["id"]})).status_code == 403
    assert client.post(CREATE, form_body()).status_code == 403
