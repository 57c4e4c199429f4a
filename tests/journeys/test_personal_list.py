"""What the journeys list, its CSV export and the dashboard show of personal data: masks only, for everyone (reveal
is per journey, on its page); and partial matches on a personal field are refused with a message, never an error."""

from __future__ import annotations

import csv
import io
import pickle
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from journeys.selectors import query_without_personal_values
from journeys.services.mirror import journey_mirror_refresh
from mintportal.mint import models
from privacy import kinds
from privacy.models import PersonalDataDeclaration
from privacy.services import declaration_save
from tests.personas import WF_INSIDE

pytestmark = pytest.mark.django_db

LIST = reverse("journeys:list")
EXPORT = reverse("journeys:export")
DASHBOARD = reverse("accounts:dashboard")
NAME = "Onboarding – Kari Nordmann"
NATIONAL_ID = "14038512345"
EMAIL = "kari.nordmann@example.no"
# What must never be on a page or in an export (each compared without regard to case).
CLEAR = ("Kari", "Nordmann", NATIONAL_ID, EMAIL, "example.no")
FIELDS = [{"path": "input.nationalId", "kind": kinds.NATIONAL_ID}, {"path": "input.fullName", "kind": kinds.NAME},
          {"path": "steps.login.email", "kind": kinds.EMAIL}]


def write_journey(journey_id: str, *, status: str = "active", alerts: list[dict[str, Any]] | None = None,
                  **extra: Any) -> None:
    journey_mirror_refresh(journey=models.JourneyDetail.model_validate({
        "id": journey_id, "workflowId": WF_INSIDE, "version": 1, "status": status, "name": NAME,
        "createdAt": timezone.now().isoformat(), "lastExecutedAt": timezone.now().isoformat(),
        "activeSteps": [{"stepId": "review", "stepType": "suspend"}] if status == "active" else [],
        "alerts": alerts or [], "input": {"nationalId": NATIONAL_ID, "fullName": "Kari Nordmann", "ref": "R-1"},
        "stepData": {"login": {"email": EMAIL, "level": "high"}}, **extra,
    }))


@pytest.fixture
def declared() -> None:
    PersonalDataDeclaration.objects.create(workflow_id=WF_INSIDE, version=1, fields=FIELDS,
                                           updated_at=timezone.now())


@pytest.fixture
def handler_client(client: Client, case_handler: User, declared: None) -> Client:
    client.force_login(case_handler)
    return client


def assert_masked(text: str) -> None:
    for value in CLEAR:
        assert value.casefold() not in text.casefold(), "a personal value is shown in clear"


def csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_list_shows_names_and_personal_columns_masked(handler_client: Client) -> None:
    write_journey("j1")

    html = handler_client.get(LIST, {"cols": "nationalId, fullName, login.email, ref, login"}).content.decode()
    into_marker = handler_client.get(EXPORT, {"cols": "login.email.hash, login.email.words"})

    assert_masked(html)
    assert "Onboarding – K*** N***" in html
    assert "******2345" in html and "K*** N***" in html and "R-1" in html
    # A marker never shows more than its mask (an object holding one is shown with the mask in its place).
    assert "$personal" not in html and '"hash"' not in html
    masked_email = kinds.mask(kinds.EMAIL, EMAIL)
    assert [(row["login.email.hash"], row["login.email.words"]) for row in csv_rows(into_marker)] == [
        (masked_email, masked_email)]


def test_the_csv_export_shows_names_and_personal_columns_masked(handler_client: Client) -> None:
    write_journey("j1")

    response = handler_client.get(EXPORT, {"cols": "nationalId, fullName, login.email, ref"})

    rows = csv_rows(response)
    assert [row["name"] for row in rows] == ["Onboarding – K*** N***"]
    assert rows[0]["nationalId"] == "******2345" and rows[0]["fullName"] == "K*** N***"
    assert rows[0]["ref"] == "R-1" and rows[0]["login.email"] == kinds.mask(kinds.EMAIL, EMAIL)
    assert_masked(",".join(",".join(row.values()) for row in rows))


def test_equals_on_a_personal_field_finds_the_journey_by_its_hash(handler_client: Client) -> None:
    write_journey("j1")
    write_journey("j2", input={"nationalId": "01010012356", "fullName": "Ola Hansen"})

    ids = [row["id"] for row in csv_rows(handler_client.get(EXPORT, {"data": f"nationalId = {NATIONAL_ID}"}))]
    by_name = [row["id"] for row in csv_rows(handler_client.get(EXPORT, {"data": "fullName = kari  NORDMANN"}))]

    assert ids == ["j1"] and by_name == ["j1"]


def test_the_dashboard_shows_names_and_alert_messages_masked(handler_client: Client) -> None:
    write_journey("waiting", alerts=[{"stepId": "review", "severity": "critical",
                                      "message": f"Kari Nordmann ({NATIONAL_ID}) failed the check"}])
    write_journey("faulted", status="faulted", faultedAt=timezone.now().isoformat())

    html = handler_client.get(DASHBOARD).content.decode()

    assert_masked(html)
    assert html.count("Onboarding – K*** N***") == 3  # waiting longest, faults, alerts
    assert "K*** N*** (******2345) failed the check" in html


@pytest.mark.parametrize("line", ["nationalId ~ 1403", "nationalId > 1", "login.email ~ kari"])
def test_a_partial_match_on_a_personal_field_is_refused_with_a_message(handler_client: Client, line: str) -> None:
    write_journey("j1")
    field = line.split(" ")[0]
    message = f"“{field}” is personal data: search it with = (exact) or exists."

    listed = handler_client.get(LIST, {"data": line})
    exported = handler_client.get(EXPORT, {"data": line})

    assert listed.status_code == 200
    html = listed.content.decode()
    assert message in html and "Fix the data filter to see results." in html
    detail = f'href="{reverse("journeys:detail", args=["j1"])}"'
    assert detail not in html and detail in handler_client.get(LIST, {"data": f"{field} exists"}).content.decode()
    assert exported.status_code == 400
    assert message in exported.content.decode()


def test_a_job_keeps_the_filters_without_personal_values(db: None, admin: User) -> None:
    declaration_save(actor=admin, workflow_id=WF_INSIDE, version=1,
                     fields=[{"path": "steps.login.nationalId", "kind": "national_id"}])
    query = "status=active&data=login.nationalId+%3D+14038512324&data=product+%3D+Savings&data=login.nationalId+exists"
    kept = QueryDict(query_without_personal_values(query))
    assert kept.getlist("data") == ["product = Savings", "login.nationalId exists"]
    assert kept["status"] == "active"
    assert "14038512324" not in query_without_personal_values(query)


def test_a_list_searching_a_personal_value_is_not_cached(handler_client: Client, settings: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "personal-list"}}
    write_journey("j1")
    cache = caches["default"]
    cache.clear()

    searched = handler_client.get(LIST, {"data": f"nationalId = {NATIONAL_ID}"})
    assert searched.status_code == 200 and "j1" in searched.content.decode()
    stored = [pickle.loads(value) for value in cache._cache.values()]  # type: ignore[attr-defined]
    assert not any(NATIONAL_ID in str(value) for value in stored)
    # Other lists are cached as before.
    handler_client.get(LIST, {"data": "ref = R-1"})
    assert any("R-1" in str(pickle.loads(value)) for value in cache._cache.values())  # type: ignore[attr-defined]
