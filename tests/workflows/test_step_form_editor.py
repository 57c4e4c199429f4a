"""The editor of a manual step's form: who may use it, the limits just inside and just outside, and the audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, link, step
from workflows.models import StepForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(api: Api, mint_settings) -> dict[str, Any]:
    definition = {"steps": [step("review", "suspend"),
                            step("check", "if-else", left="{{ steps.review.score }}", operator="gt", right=5),
                            step("done", "finish")],
                  "connections": [link("review", "check"), link("check", "done", "True")]}
    created = api.create_workflow(definition)
    place_workflow(created["id"], tags=["onboarding"], name=created["name"])
    return created


def editor(workflow: dict[str, Any], step_id: str = "review") -> str:
    return reverse("workflows:step_form", kwargs={"workflow_id": workflow["id"], "version": workflow["version"],
                                                  "step_id": step_id})


def rows(*fields: dict[str, str]) -> dict[str, str]:
    """The editor's POST for these rows (each: key, label, type, …), in order."""
    data = {"form-TOTAL_FORMS": str(len(fields)), "form-INITIAL_FORMS": "0", "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "50"}
    for index, row in enumerate(fields):
        data.update({f"form-{index}-{name}": value for name, value in
                     {"type": "text", "required": "on", "ORDER": str(index + 1), **row}.items()})
    return data


def test_the_draft_is_read_from_the_definition(root_client: Client, workflow: dict) -> None:
    response = root_client.get(editor(workflow))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="score"' in html
    assert '<option value="number" selected>' in html


def test_a_form_of_fifty_fields_is_saved_and_fifty_one_are_refused(root_client: Client, workflow: dict) -> None:
    fifty = rows(*({"key": f"k{index}"} for index in range(50)))
    assert root_client.post(editor(workflow), fifty).status_code == 302
    assert len(StepForm.objects.get(workflow_id=workflow["id"]).fields) == 50
    fifty_one = rows(*({"key": f"k{index}"} for index in range(51)))
    response = root_client.post(editor(workflow), fifty_one)
    assert response.status_code == 400
    assert "Please submit at most 50 forms." in response.content.decode()
    assert len(StepForm.objects.get(workflow_id=workflow["id"]).fields) == 50


@pytest.mark.parametrize(("row", "saved", "message"), [
    ({"key": "k" * 100}, True, ""),
    ({"key": "k" * 101}, False, "Ensure this value has at most 100 characters (it has 101)."),
    ({"key": "a", "label": "l" * 200}, True, ""),
    ({"key": "a", "label": "l" * 201}, False, "Ensure this value has at most 200 characters (it has 201)."),
    ({"key": "has space"}, False, "Use letters, digits, “_” and “-” only"),
    ({"key": "a", "type": "choice"}, False, "A choice field needs at least one choice."),
    ({"key": "a", "type": "choice", "choices": "low\nhigh", "default": "high"}, True, ""),
    ({"key": "a", "type": "choice", "choices": "low\nhigh", "default": "mid"}, False, "choose one of low, high."),
    ({"key": "a", "type": "number", "default": "12"}, True, ""),
    ({"key": "a", "type": "number", "default": "twelve"}, False, "Not a valid default: expected a number"),
    ({"key": "a", "type": "date", "default": "2026-02-30"}, False, "expected a date as YYYY-MM-DD."),
    ({"key": "a", "type": "yesno", "default": "yes"}, True, ""),
    ({"key": "a", "type": "spreadsheet"}, False, "Select a valid choice."),
])
def test_each_field_is_checked(root_client: Client, workflow: dict, row: dict, saved: bool, message: str) -> None:
    response = root_client.post(editor(workflow), rows(row))
    assert (response.status_code == 302) is saved
    assert StepForm.objects.filter(workflow_id=workflow["id"]).exists() is saved
    if message:
        assert message in response.content.decode()


def test_defaults_are_stored_typed(root_client: Client, workflow: dict) -> None:
    root_client.post(editor(workflow), rows({"key": "n", "type": "number", "default": "12"},
                                            {"key": "ok", "type": "yesno", "default": "no", "required": ""}))
    fields = StepForm.objects.get(workflow_id=workflow["id"]).fields
    assert [(f["key"], f["default"], f["required"]) for f in fields] == [("n", 12, True), ("ok", False, False)]


def test_the_editor_warns_of_keys_the_workflow_reads_that_the_form_left_out(root_client: Client,
                                                                          workflow: dict) -> None:
    root_client.post(editor(workflow), rows({"key": "other"}))
    html = root_client.get(editor(workflow)).content.decode()
    assert "Later steps read keys this form does not ask for:" in html and "<code>score</code>" in html


def test_keys_must_be_unique(root_client: Client, workflow: dict) -> None:
    response = root_client.post(editor(workflow), rows({"key": "a"}, {"key": "a"}))
    assert response.status_code == 400
    assert "The key “a” is already used by another field." in response.content.decode()
    # A removed row's key is free again.
    assert root_client.post(editor(workflow), rows({"key": "a", "DELETE": "on"}, {"key": "a"})).status_code == 302


def test_removed_rows_are_left_out_and_order_numbers_order(root_client: Client, workflow: dict) -> None:
    data = rows({"key": "first", "ORDER": "3"}, {"key": "gone", "DELETE": "on"}, {"key": "second", "ORDER": "1"})
    assert root_client.post(editor(workflow), data).status_code == 302
    assert [f["key"] for f in StepForm.objects.get(workflow_id=workflow["id"]).fields] == ["second", "first"]


def test_saving_is_audited_with_the_keys(root_client: Client, workflow: dict, superuser: User) -> None:
    root_client.post(editor(workflow), rows({"key": "score", "type": "number"}))
    event = AuditEvent.objects.get(action="workflow.step_form.save")
    assert (event.outcome, event.actor, event.workflow_id) == ("ok", superuser, workflow["id"])
    assert event.detail == {"version": workflow["version"], "step_id": "review", "keys": ["score"]}


def test_a_later_version_starts_from_the_previous_versions_form(root_client: Client, workflow: dict, api: Api) -> None:
    root_client.post(editor(workflow), rows({"key": "score", "label": "Risk score", "type": "number"}))
    body = {key: workflow[key] for key in ("name", "steps", "connections")}
    body["steps"] = [*body["steps"], step("mail", "set-name", template="By {{ steps.review.reviewer }}")]
    body["connections"] = [*body["connections"], link("check", "mail", "False"), link("mail", "done")]
    saved = api.put(f"workflows/{workflow['id']}", json=body)
    assert saved.status_code == 200, saved.text
    later = {**workflow, "version": saved.json()["version"]}
    html = root_client.get(editor(later)).content.decode()
    assert f"shown as version {workflow['version']}'s form" in html
    assert 'value="Risk score"' in html and 'value="reviewer"' in html


def test_only_people_who_manage_the_workflow_may_edit(client: Client, case_handler: User, workflow: dict) -> None:
    client.force_login(case_handler)
    assert client.get(editor(workflow)).status_code == 403
    assert client.post(editor(workflow), rows({"key": "a"})).status_code == 403
    assert not StepForm.objects.exists()


def test_a_step_that_is_not_a_suspend_step_has_no_form(root_client: Client, workflow: dict) -> None:
    assert root_client.get(editor(workflow, "check")).status_code == 404
    assert root_client.post(editor(workflow, "check"), rows({"key": "a"})).status_code == 404


def test_a_post_without_the_formsets_counts_is_refused_not_an_error(root_client: Client, workflow: dict) -> None:
    response = root_client.post(editor(workflow), {"form-0-key": "a"})
    assert response.status_code == 400
    assert "ManagementForm data is missing or has been tampered with" in response.content.decode()
