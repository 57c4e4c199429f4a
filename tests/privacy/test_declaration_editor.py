"""A workflow's "Personal data" page: saving and reading the declaration, who may change it, the limits just
inside and just outside, and that a refused submission saves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import include, path, reverse

from accounts.models import AuditEvent
from mintportal import urls as project_urls
from mintportal.mint import models as mint_models
from privacy import kinds
from privacy.models import PersonalDataDeclaration, RetentionRule
from tests.mint_parts import link as mint_link
from tests.mint_parts import step as mint_step
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, link, step
from workflows.services import workflow_publish, workflow_update

# The page's URLs until the project's urlconf routes them (then these are the project's own).
handler500 = project_urls.handler500
urlpatterns = list(project_urls.urlpatterns)
if not any(getattr(entry, "namespace", None) == "privacy" for entry in urlpatterns):
    urlpatterns.append(path("privacy/", include("privacy.urls")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def workflow(api: Api, mint_settings) -> dict[str, Any]:
    """A workflow inside the personas' onboarding scope, with the onboarding demo's step ids."""
    definition = {"inputParameters": [{"name": "customerNumber"}],
                  "steps": [step("login", "suspend"), step("details", "suspend"), step("done", "finish")],
                  "connections": [link("login", "details"), link("details", "done")]}
    created = api.create_workflow(definition)
    place_workflow(created["id"], tags=["onboarding"], name=created["name"])
    return created


@pytest.fixture
def manager(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


def page(workflow: dict[str, Any], **query: Any) -> str:
    url = reverse("privacy:workflow", kwargs={"workflow_id": workflow["id"]})
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def rows(*fields: tuple[str, str], deleted: tuple[int, ...] = ()) -> dict[str, str]:
    """The editor's POST for these (path, kind) rows, in order."""
    data = {"save": "fields", "fields-TOTAL_FORMS": str(len(fields)), "fields-INITIAL_FORMS": "0",
            "fields-MIN_NUM_FORMS": "0", "fields-MAX_NUM_FORMS": "200"}
    for index, (field_path, kind) in enumerate(fields):
        data[f"fields-{index}-path"] = field_path
        data[f"fields-{index}-kind"] = kind
        if index in deleted:
            data[f"fields-{index}-DELETE"] = "on"
    return data


def stored(workflow: dict[str, Any]) -> list[dict[str, str]] | None:
    declaration = PersonalDataDeclaration.objects.filter(workflow_id=workflow["id"]).first()
    return None if declaration is None else declaration.fields


def test_a_declaration_is_saved_shown_again_and_audited(manager: Client, admin: User, workflow: dict) -> None:
    response = manager.post(page(workflow), rows(("steps.login.nationalId", kinds.NATIONAL_ID),
                                                 ("steps.details.email", kinds.EMAIL)))
    assert response.status_code == 302
    assert stored(workflow) == [{"path": "steps.login.nationalId", "kind": kinds.NATIONAL_ID},
                                {"path": "steps.details.email", "kind": kinds.EMAIL}]

    html = manager.get(response["Location"]).content.decode()
    assert 'value="steps.login.nationalId"' in html and 'value="steps.details.email"' in html
    assert f'<option value="{kinds.NATIONAL_ID}" selected>' in html
    assert "Declared for version 1." in html

    event = AuditEvent.objects.get(action="workflow.personal_data", workflow_id=workflow["id"])
    assert event.actor_id == admin.pk
    assert event.detail["fields"] == stored(workflow)


def test_a_removed_row_is_dropped_and_an_added_row_is_offered(manager: Client, workflow: dict) -> None:
    manager.post(page(workflow), rows(("input.customerNumber", kinds.FREE_TEXT), ("steps.login.name", kinds.NAME)))
    response = manager.post(page(workflow), rows(("input.customerNumber", kinds.FREE_TEXT),
                                                 ("steps.login.name", kinds.NAME), deleted=(0,)))
    assert response.status_code == 302
    assert stored(workflow) == [{"path": "steps.login.name", "kind": kinds.NAME}]

    added = manager.post(page(workflow), {**rows(("steps.login.name", kinds.NAME)), "save": "add"})
    assert added.status_code == 200
    html = added.content.decode()
    assert 'value="steps.login.name"' in html and 'name="fields-1-path"' in html and 'name="fields-2-path"' not in html
    assert stored(workflow) == [{"path": "steps.login.name", "kind": kinds.NAME}]


def test_someone_who_may_only_view_reads_the_fields_and_may_not_change_them(
        client: Client, manager: Client, case_handler: User, workflow: dict) -> None:
    manager.post(page(workflow), rows(("steps.login.name", kinds.NAME)))
    client.force_login(case_handler)

    response = client.get(page(workflow))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<code>steps.login.name</code>" in html and kinds.KINDS[kinds.NAME] in html
    assert 'name="fields-0-path"' not in html and "Suggest fields" not in html

    refused = client.post(page(workflow), rows(("steps.login.name", kinds.EMAIL)))
    assert refused.status_code == 403
    assert client.post(page(workflow), {"save": "retention", "retention-days": "1"}).status_code == 403
    assert stored(workflow) == [{"path": "steps.login.name", "kind": kinds.NAME}]
    assert not RetentionRule.objects.filter(workflow_id=workflow["id"]).exists()
    assert AuditEvent.objects.filter(action__in=["workflow.personal_data", "workflow.retention"]).count() == 1
    # The refusals are on the audit trail as refusals.
    assert AuditEvent.objects.filter(actor=case_handler, outcome=AuditEvent.Outcome.REFUSED).count() == 2


def test_a_workflow_outside_the_scope_is_not_found(client: Client, outsider: User, workflow: dict) -> None:
    client.force_login(outsider)
    assert client.get(page(workflow)).status_code == 404
    assert client.post(page(workflow), rows(("steps.login.name", kinds.NAME))).status_code == 404
    assert stored(workflow) is None


@pytest.mark.parametrize(("days", "kept"), [("0", 0), ("36500", 36500), ("-1", None), ("36501", None)])
def test_retention_is_zero_to_a_hundred_years(manager: Client, workflow: dict, days: str, kept: int | None) -> None:
    response = manager.post(page(workflow), {"save": "retention", "retention-days": days})
    assert response.status_code == (302 if kept is not None else 400)
    assert RetentionRule.objects.filter(workflow_id=workflow["id"]).values_list("days", flat=True).first() == kept
    if kept is None:
        assert "field-error" in response.content.decode()


def test_a_blank_retention_returns_to_the_default(manager: Client, workflow: dict, settings) -> None:
    manager.post(page(workflow), {"save": "retention", "retention-days": "7"})
    assert RetentionRule.objects.get(workflow_id=workflow["id"]).days == 7
    response = manager.post(page(workflow), {"save": "retention", "retention-days": ""})
    assert response.status_code == 302
    assert not RetentionRule.objects.filter(workflow_id=workflow["id"]).exists()
    html = manager.get(page(workflow)).content.decode()
    assert f"the portal's default, {settings.PERSONAL_DATA_RETENTION_DAYS} days" in html


def test_two_hundred_fields_are_saved_and_two_hundred_and_one_refused(manager: Client, workflow: dict) -> None:
    two_hundred = [(f"input.field{index}", kinds.FREE_TEXT) for index in range(200)]
    assert manager.post(page(workflow), rows(*two_hundred)).status_code == 302
    assert len(stored(workflow) or []) == 200

    response = manager.post(page(workflow), rows(*two_hundred, ("input.one_more", kinds.NAME)))
    assert response.status_code == 400
    assert "at most 200 personal fields (201 given)" in response.content.decode()
    assert len(stored(workflow) or []) == 200


def test_a_path_of_two_hundred_characters_is_saved_and_one_longer_refused(manager: Client, workflow: dict) -> None:
    longest = "input." + "a" * 194
    assert len(longest) == 200
    assert manager.post(page(workflow), rows((longest, kinds.NAME))).status_code == 302
    assert stored(workflow) == [{"path": longest, "kind": kinds.NAME}]

    response = manager.post(page(workflow), rows((longest + "a", kinds.NAME)))
    assert response.status_code == 400
    assert "at most 200 characters (this one has 201)" in response.content.decode()
    assert stored(workflow) == [{"path": longest, "kind": kinds.NAME}]


@pytest.mark.parametrize(("row", "message"), [
    (("customerNumber", kinds.NAME), "must start with input.&lt;field&gt; or steps.&lt;step&gt;.&lt;field&gt;"),
    (("steps.login", kinds.NAME), "must start with input.&lt;field&gt; or steps.&lt;step&gt;.&lt;field&gt;"),
    (("input..name", kinds.NAME), "has an empty key"),
    (("input.name", "shoe_size"), "Select a valid choice."),
    (("input.name", ""), "This field is required."),
])
def test_a_bad_row_is_refused_beside_it_and_nothing_is_saved(
        manager: Client, workflow: dict, row: tuple[str, str], message: str) -> None:
    response = manager.post(page(workflow), rows(("steps.login.name", kinds.NAME), row))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    # The error sits in the bad row (the second), not on the page at large.
    assert message in html.split('id="field-2"', 1)[1].split("</tr>", 1)[0]
    assert stored(workflow) is None
    assert not AuditEvent.objects.filter(action="workflow.personal_data").exists()


def test_a_path_declared_twice_is_refused(manager: Client, workflow: dict) -> None:
    response = manager.post(page(workflow), rows(("input.email", kinds.EMAIL), ("input.email", kinds.NAME)))
    assert response.status_code == 400
    assert "declared twice" in response.content.decode()
    assert stored(workflow) is None


def test_a_later_version_without_its_own_declaration_shows_the_earlier_one(
        manager: Client, admin: User, workflow: dict) -> None:
    manager.post(page(workflow), rows(("steps.login.name", kinds.NAME)))
    workflow_update(actor=admin, workflow_id=workflow["id"], data=mint_models.WorkflowInput(
        name=workflow["name"], steps=[mint_step("login", "suspend"), mint_step("done", "finish")],
        connections=[mint_link("login", "done")]))

    html = manager.get(page(workflow, version=2)).content.decode()
    assert "journeys of it use version 1's" in html
    assert 'value="steps.login.name"' in html
    assert manager.get(page(workflow, version=3)).status_code == 404
    assert manager.get(page(workflow, version="two")).status_code == 400


def test_an_empty_submission_is_a_form_with_errors(manager: Client, workflow: dict) -> None:
    assert manager.post(page(workflow), {}).status_code == 400
    assert manager.post(page(workflow), {}, headers={"HX-Request": "true"}).status_code == 400
    assert stored(workflow) is None


def test_signing_in_comes_first(client: Client, workflow: dict) -> None:
    response = client.get(page(workflow))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_page_opens_on_the_published_version(manager: Client, admin: User, workflow: dict) -> None:
    workflow_publish(actor=admin, workflow_id=workflow["id"], version=1)
    workflow_update(actor=admin, workflow_id=workflow["id"], data=mint_models.WorkflowInput(
        name=workflow["name"], steps=[mint_step("login", "suspend"), mint_step("done", "finish")],
        connections=[mint_link("login", "done")]))
    html = manager.get(page(workflow)).content.decode()
    assert '<option value="1" selected>v1 (published)</option>' in html
    assert manager.post(page(workflow), rows(("steps.login.name", kinds.NAME))).status_code == 302
    assert PersonalDataDeclaration.objects.get(workflow_id=workflow["id"]).version == 1
