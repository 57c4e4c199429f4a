""""Suggest fields" on a workflow's "Personal data" page: a first draft from the workflow's latest journeys, read
live from the sandbox, with a reason per row and never a value; nothing is declared until the admin saves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from mintportal import urls as project_urls
from privacy import kinds
from privacy.models import PersonalDataDeclaration
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, link, step
from tests.sandbox_process import SandboxProcess

handler500 = project_urls.handler500
urlpatterns = list(project_urls.urlpatterns)
if not any(getattr(entry, "namespace", None) == "privacy" for entry in urlpatterns):
    urlpatterns.append(path("privacy/", include("privacy.urls")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

# The onboarding demo's personal fields (sandbox/demo.py): its eID login's identity and its contact details form.
ONBOARDING_FIELDS = {
    "steps.login.name": kinds.NAME,
    "steps.login.birthDate": kinds.BIRTH_DATE,
    "steps.login.nationalId": kinds.NATIONAL_ID,
    "steps.details.email": kinds.EMAIL,
    "steps.details.phone": kinds.PHONE,
    "steps.details.address": kinds.ADDRESS,
}
PEOPLE = [
    ("Kari Quillfeather", "1984-03-15", "15038412345", "kari.q@example.com", "+47 91234567", "Storgata 12, 0151 Oslo"),
    ("Ola Brightwater", "1990-11-02", "02119054321", "ola.b@example.org", "+47 98765432", "Bryggen 3, 5003 Bergen"),
    ("Ingrid Marshwood", "1975-07-30", "30077511223", "ingrid@example.net", "+46 701234567",
     "Vasagatan 31, 111 20 Stockholm"),
]


@pytest.fixture
def onboarding(api: Api, mint_settings) -> dict[str, Any]:
    """A workflow with the onboarding demo's step ids; its journeys get the demo's data shapes at ``login`` and
    ``details`` (suspend steps, so the test gives each step's output)."""
    definition = {"inputParameters": [{"name": "customerNumber"}],
                  "steps": [step("login", "suspend"), step("details", "suspend"), step("done", "finish")],
                  "connections": [link("login", "details"), link("details", "done")]}
    created = api.create_workflow(definition)
    place_workflow(created["id"], tags=["onboarding"], name=created["name"])
    return created


def journey(api: Api, workflow: dict[str, Any], index: int, person: tuple[str, ...]) -> None:
    name, birth, national_id, email, phone, address = person
    started = api.start(workflow["id"], {"customerNumber": f"C-{100200 + index}"})
    journey_id = started["journeyId"]
    for step_id, output in (
        ("login", {"name": name, "birthDate": birth, "nationalId": national_id, "country": "NO"}),
        ("details", {"email": email, "phone": phone, "address": address, "occupation": "Nurse", "pep": False}),
    ):
        response = api.post(f"journeys/{journey_id}/resume", json={"stepId": step_id, "input": output})
        assert response.status_code in (200, 202, 204), response.text


@pytest.fixture
def manager(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


def suggest_url(workflow: dict[str, Any]) -> str:
    return reverse("privacy:workflow", kwargs={"workflow_id": workflow["id"]}) + "?suggest=1"


def row_of(html: str, field_path: str) -> str:
    """The editor's table row whose path is ``field_path``."""
    for row in re.findall(r'<tr id="field-\d+".*?</tr>', html, flags=re.S):
        if f'value="{field_path}"' in row:
            return row
    raise AssertionError(f"no row for {field_path}")


def test_the_draft_proposes_the_onboarding_fields_with_reasons_and_no_values(
        manager: Client, api: Api, onboarding: dict) -> None:
    for index, person in enumerate(PEOPLE):
        journey(api, onboarding, index, person)

    response = manager.get(suggest_url(onboarding))
    html = response.content.decode()
    assert response.status_code == 200
    for field_path, kind in ONBOARDING_FIELDS.items():
        row = row_of(html, field_path)
        assert f'<option value="{kind}" selected>' in row, field_path
        reason = re.search(r'<span class="suggestion-reason">(.+?)</span>', row)
        assert reason and reason.group(1).strip(), field_path
    # Values never reach the page: not whole, and not the words of a name or an address.
    for person in PEOPLE:
        for value in person:
            assert value not in html
        for word in (*person[0].split(), person[5].split(",")[0]):
            assert word not in html
    assert not PersonalDataDeclaration.objects.filter(workflow_id=onboarding["id"]).exists()


def test_the_admin_confirms_the_draft_by_saving_it(manager: Client, api: Api, onboarding: dict) -> None:
    journey(api, onboarding, 0, PEOPLE[0])
    html = manager.get(suggest_url(onboarding)).content.decode()
    paths = re.findall(r'name="fields-(\d+)-path"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="fields-(\d+)-path"',
                       html)
    suggested = [found[1] or found[2] for found in paths]
    assert set(ONBOARDING_FIELDS) <= set(suggested)
    data = {"save": "fields", "fields-TOTAL_FORMS": str(len(suggested)), "fields-INITIAL_FORMS": "0"}
    for index, field_path in enumerate(suggested):
        data[f"fields-{index}-path"] = field_path
        data[f"fields-{index}-kind"] = re.search(r'<option value="(\w+)" selected>', row_of(html, field_path)).group(1)
    response = manager.post(reverse("privacy:workflow", kwargs={"workflow_id": onboarding["id"]}), data)
    assert response.status_code == 302
    declared = PersonalDataDeclaration.objects.get(workflow_id=onboarding["id"], version=1).fields
    assert {item["path"]: item["kind"] for item in declared if item["path"] in ONBOARDING_FIELDS} == ONBOARDING_FIELDS


def test_the_draft_reads_only_the_latest_twenty_five_journeys(
        manager: Client, api: Api, onboarding: dict, sandbox: SandboxProcess) -> None:
    for index in range(27):
        api.start(onboarding["id"], {"customerNumber": f"C-{index}"})
    sandbox.reset_counters()
    response = manager.get(suggest_url(onboarding))
    assert response.status_code == 200
    assert sandbox.count("listJourneys") == 1
    assert sandbox.count("getJourney") == 25


def test_a_workflow_without_journeys_says_so_and_keeps_the_declaration(manager: Client, onboarding: dict) -> None:
    response = manager.get(suggest_url(onboarding))
    assert response.status_code == 200
    assert "Nothing in the latest 25 journeys looks like personal data." in response.content.decode()


def test_someone_who_may_only_view_gets_no_draft(
        client: Client, case_handler: User, api: Api, onboarding: dict, sandbox: SandboxProcess) -> None:
    journey(api, onboarding, 0, PEOPLE[0])
    client.force_login(case_handler)
    sandbox.reset_counters()
    response = client.get(suggest_url(onboarding))
    assert response.status_code == 200
    assert sandbox.count("getJourney") == 0
    assert 'value="steps.login.name"' not in response.content.decode()


def test_mint_down_leaves_the_declared_fields_and_says_why(
        manager: Client, onboarding: dict, sandbox: SandboxProcess) -> None:
    PersonalDataDeclaration.objects.create(workflow_id=onboarding["id"], version=1, updated_at=timezone.now(),
                                           fields=[{"path": "steps.login.name", "kind": kinds.NAME}])
    manager.get(suggest_url(onboarding).replace("?suggest=1", ""))  # the workflow's versions are read (and cached)
    sandbox.add_fault(path=r"^/mint/journeys$", method="GET", status=503)
    response = manager.get(suggest_url(onboarding))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="notice notice-warn"' in html
    assert 'value="steps.login.name"' in html
