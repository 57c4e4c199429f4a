"""The rough edges a first-time author hits: broken JSON says where, publishing asks first, "Compare versions"
opens on previous vs latest, long step names wrap, secrets have names Mint and workflows can use (and only one of
each), and a published workflow's domain and start link are shown with copy and QR."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from mintportal.mint import models
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, link, step, unique
from workflows.forms import SecretForm, WorkflowForm
from workflows.graph import workflow_graph
from workflows.models import SecretRecord

pytestmark = pytest.mark.django_db
CREATE = reverse("workflows:create")


def body(**fields: str) -> dict[str, str]:
    return {"name": "Broken", "description": "", "tags": "", "input_parameters": "",
            "steps": json.dumps([{"id": "a", "type": "finish"}]), "connections": "", "variables": "", **fields}


def test_broken_json_names_its_line_and_column_and_marks_the_offending_text(root_client: Client, sandbox,
                                                                             mint_settings) -> None:
    steps = '[\n  {"id": "a", "type": "form"},\n  {"id": "b" "type": "finish"}\n]'
    calls = sandbox.count("createWorkflow")
    response = root_client.post(CREATE, body(steps=steps))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Not valid JSON at line 3, column 14: Expecting &#x27;,&#x27; delimiter." in html
    assert ('<span class="json-line-number" aria-hidden="true">3</span>  '
            '{&quot;id&quot;: &quot;b&quot; <mark>&quot;</mark>type') in html
    assert "Enter a valid JSON" not in html
    assert sandbox.count("createWorkflow") == calls


@given(text=st.text(alphabet='{}[]":,ab 1\n', min_size=1, max_size=40))
def test_any_json_error_points_at_a_line_and_column_inside_the_text(text: str) -> None:
    form = WorkflowForm(body(variables=text))
    form.is_valid()
    problem = form.json_problems.get("variables")
    if not text.strip():
        assert problem is None  # blank means "no variables"
        return
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        assert problem is not None and (problem.line, problem.column) == (error.lineno, error.colno)
        assert 1 <= problem.line <= text.count("\n") + 1
        assert len(problem.before) <= 60 and len(problem.at) == 1
    else:
        assert problem is None


def two_versions(api: Api) -> dict:
    definition = chain(step("name", "set-name", template="One"), step("done", "finish"))
    workflow = api.create_workflow(definition, name=unique("Versions"))
    definition["steps"][0]["properties"]["template"] = "Two"
    api.put(f"workflows/{workflow['id']}", json={"name": workflow["name"], **definition})
    place_workflow(workflow["id"], tags=[], name=workflow["name"])
    return workflow


def test_publishing_asks_first_and_only_the_confirmed_request_publishes(root_client: Client, api: Api, sandbox,
                                                                       mint_settings) -> None:
    workflow = two_versions(api)
    url = reverse("workflows:publish", kwargs={"workflow_id": workflow["id"], "version": 2})
    calls = sandbox.count("publishWorkflowVersion")
    asked = root_client.post(url)
    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Publish version 2?" in html and 'name="confirmed" value="1"' in html
    assert "Compare it with version 1" in html
    assert sandbox.count("publishWorkflowVersion") == calls
    assert api.get(f"workflows/{workflow['id']}").json()["isPublished"] is False
    done = root_client.post(url, {"confirmed": "1"}, follow=True)
    assert "Published version 2" in done.content.decode()
    assert sandbox.count("publishWorkflowVersion") == calls + 1


def test_compare_versions_opens_on_the_previous_against_the_latest(root_client: Client, api: Api,
                                                                   mint_settings) -> None:
    workflow = two_versions(api)
    html = root_client.get(reverse("workflows:diff", kwargs={"workflow_id": workflow["id"]})).content.decode()
    assert "This field is required" not in html
    assert '<th colspan="2" scope="colgroup">Version 1</th><th colspan="2" scope="colgroup">Version 2</th>' in html
    assert re.search(r'<option value="1" selected>v1</option>', html.replace(" (published)", ""))
    assert "These versions define the same workflow" not in html


def test_long_step_names_wrap_onto_lines_instead_of_being_cut() -> None:
    name = "Check the customer's identity documents carefully"
    graph = workflow_graph(steps=[models.WorkflowStep(id="check", type="suspend", display_name=name)],
                           connections=[])
    node = graph.nodes[0]
    assert " ".join(node.lines) == name and all(len(line) <= 24 for line in node.lines)
    assert not any(line.endswith("…") for line in node.lines)
    html = render_to_string("components/_graph.html", {"graph": graph})
    for line in node.lines:
        assert f'class="step-label">{line.replace(chr(39), "&#x27;")}</text>' in html
    ys = [y for _, y in node.label_lines]
    assert ys == sorted(ys) and node.type_y > ys[-1] and node.type_y < node.y + node.height
    # Beyond three lines the last one ends in "…"; the box's tooltip has the whole name.
    longer = workflow_graph(steps=[models.WorkflowStep(id="x", type="suspend", display_name=name * 2)],
                            connections=[]).nodes[0]
    assert len(longer.lines) == 3 and longer.lines[-1].endswith("…")


@pytest.mark.parametrize("name", ["bank api key", "key!", "ключ", "-leading", "tab\tkey"])
def test_a_secret_name_mint_and_workflows_cannot_use_is_refused_before_mint(root_client: Client, sandbox,
                                                                           mint_settings, name: str) -> None:
    calls = sandbox.count("createSecret")
    response = root_client.post(reverse("workflows:secrets"), {"name": name, "description": "", "value": "v"})
    assert response.status_code == 400
    assert "no spaces" in response.content.decode()
    assert sandbox.count("createSecret") == calls


@given(name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}", fullmatch=True))
def test_every_name_of_letters_digits_dash_dot_underscore_up_to_50_is_accepted(name: str) -> None:
    form = SecretForm({"name": name, "description": "", "value": "v"})
    assert form.is_valid(), form.errors


def test_a_second_secret_with_a_registered_name_is_refused_with_a_link_to_update_the_first(
    root_client: Client, superuser: User, sandbox, mint_settings
) -> None:
    url = reverse("workflows:secrets")
    assert root_client.post(url, {"name": "bank-api-key", "description": "", "value": "one"}).status_code == 302
    first = SecretRecord.objects.get(name="bank-api-key")
    calls = sandbox.count("createSecret")
    response = root_client.post(url, {"name": "Bank-API-key", "description": "", "value": "two"})
    html = response.content.decode()
    assert response.status_code == 400
    edit = reverse("workflows:secret_edit", args=[first.pk])
    assert f'A secret named “bank-api-key” is already in the register: <a href="{edit}">update it</a>' in html
    assert sandbox.count("createSecret") == calls
    assert SecretRecord.objects.count() == 1
    # Updating the first one under its own name is not a duplicate.
    kept = root_client.post(edit, {"name": "bank-api-key", "description": "rotated", "value": ""})
    assert kept.status_code == 302


def test_a_published_workflows_domain_and_start_link_are_shown_with_copy_and_qr(superuser: User) -> None:
    workflow = models.WorkflowDefinition.model_validate({
        "id": "wf-1", "name": "Onboarding", "version": 1, "isLatest": True, "isPublished": True,
        "steps": [{"id": "a", "type": "finish"}], "domain": "onboarding.example.com",
        "workflowUrl": "https://onboarding.example.com/start/wf-1",
    })
    request = RequestFactory().get("/workflows/wf-1")
    request.user = superuser
    html = render_to_string("workflows/detail.html", {
        "workflow": workflow, "versions": [], "graph": workflow_graph(steps=workflow.steps, connections=[]),
    }, request=request)
    assert "<code>onboarding.example.com</code>" in html
    assert 'id="workflow-url" type="text" readonly value="https://onboarding.example.com/start/wf-1"' in html
    assert 'data-copy="#workflow-url"' in html
    assert 'src="data:image/svg+xml' in html and "QR code of the workflow" in html


def test_a_workflow_without_a_start_link_shows_no_link_card(superuser: User) -> None:
    workflow = models.WorkflowDefinition.model_validate({"id": "wf-2", "name": "Internal", "version": 1,
                                                         "isLatest": True, "isPublished": True,
                                                         "steps": [{"id": "a", "type": "finish"}]})
    request = RequestFactory().get("/workflows/wf-2")
    request.user = superuser
    html = render_to_string("workflows/detail.html", {"workflow": workflow, "versions": [], "graph": None},
                            request=request)
    assert 'id="workflow-link"' not in html


def test_connections_are_unchanged_by_wrapping(api: Api, root_client: Client, mint_settings) -> None:
    long = "A very long display name that needs three lines at least to fit"
    workflow = api.create_workflow({"steps": [step("a", "suspend", ), step("b", "finish")],
                                    "connections": [link("a", "b")]}, name=unique("Wrap"))
    steps = [{"id": "a", "type": "suspend", "displayName": long}, {"id": "b", "type": "finish"}]
    api.put(f"workflows/{workflow['id']}", json={"name": workflow["name"], "steps": steps,
                                                 "connections": [link("a", "b")]})
    place_workflow(workflow["id"], tags=[], name=workflow["name"])
    html = root_client.get(reverse("workflows:detail", kwargs={"workflow_id": workflow["id"]})).content.decode()
    assert "A very long display name" in html and "needs three lines at" in html
    assert html.count('class="edge"') == 1
