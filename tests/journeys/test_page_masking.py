"""A journey's page shows its personal data masked: every declared value, and the name, log lines, alerts, notes
and file names that repeat it, wherever the page (or a region it redraws) puts Mint's words."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Action, Scope
from journeys.models import Journey
from journeys.services.mirror import journey_mirror_refresh
from mintportal.mint import get_client
from privacy import kinds
from privacy.models import PersonalDataDeclaration
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, link, step
from tests.sandbox_process import SandboxProcess, free_port

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

# A checksum-valid fødselsnummer (so it is found by its format in free text too), and the rest of one person.
IDENTITY = {"name": "Kari Nordmann", "nationalId": "12048510092", "birthDate": "1985-04-12", "country": "NO"}
CONTACT = {"email": "kari.nordmann@example.com", "phone": "+47 912 34 567", "address": "Storgata 17, 0155 Oslo"}
DECLARED = [
    {"path": "steps.login.nationalId", "kind": kinds.NATIONAL_ID},
    {"path": "steps.login.name", "kind": kinds.NAME},
    {"path": "steps.login.birthDate", "kind": kinds.BIRTH_DATE},
    {"path": "steps.details.email", "kind": kinds.EMAIL},
    {"path": "steps.details.phone", "kind": kinds.PHONE},
    {"path": "steps.details.address", "kind": kinds.ADDRESS},
]
# Every declared value, and the parts of them a page could show on their own.
VALUES = ("Kari Nordmann", "Kari", "Nordmann", "12048510092", "1985-04-12", "kari.nordmann@example.com",
          "kari.nordmann", "+47 912 34 567", "912 34 567", "Storgata 17", "Storgata")
NOTE = "Called Kari Nordmann (12048510092); she confirmed the address."


@dataclass(frozen=True)
class Onboarding:
    workflow_id: str
    journey_id: str

    @property
    def url(self) -> str:
        return reverse("journeys:detail", kwargs={"journey_id": self.journey_id})

    @property
    def reveal_url(self) -> str:
        return reverse("journeys:reveal", kwargs={"journey_id": self.journey_id})


def onboarding_journey(api: Api) -> Onboarding:
    """A demo-like onboarding journey, mirrored, whose workflow declares its personal fields: eID login and contact
    details given, then named after the person, an alert and a file that repeat their name and national id, and a
    fault whose log line does too; plus a case handler's note that names them."""
    steps = [
        step("login", "eid-login"),
        step("details", "form", fields=[{"name": "email", "label": "Email", "type": "email"},
                                        {"name": "phone", "label": "Phone", "type": "text"},
                                        {"name": "address", "label": "Address", "type": "text"}]),
        step("name", "set-name", template="Onboarding – {{ steps.login.name }}"),
        step("flag", "trigger-alert", severity="warning",
             message="Check {{ steps.login.name }}, fnr {{ steps.login.nationalId }}"),
        step("letter", "generate-document", filename="letter-{{ steps.login.nationalId }}.txt", format="text",
             content="Dear {{ steps.login.name }}"),
        step("stop", "fault", message="Could not verify {{ steps.login.name }} ({{ steps.login.nationalId }})"),
    ]
    connections = [link("login", "details", "Success"),
                   *(link(a["id"], b["id"]) for a, b in itertools.pairwise(steps[1:]))]
    workflow = api.create_workflow({"steps": steps, "connections": connections},
                                   inputParameters=[{"name": "customerNumber"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    PersonalDataDeclaration.objects.create(workflow_id=workflow["id"], version=1, fields=DECLARED,
                                           updated_at=timezone.now())
    journey_id = api.start(workflow["id"], {"customerNumber": "C-100200"})["journeyId"]
    api.post(f"journeys/{journey_id}/resume", json={"stepId": "login", "input": IDENTITY}).raise_for_status()
    api.post(f"journeys/{journey_id}/resume", json={"stepId": "details", "input": CONTACT}).raise_for_status()
    api.post(f"journeys/{journey_id}/notes", json={"content": NOTE}).raise_for_status()
    journey_mirror_refresh(journey=get_client().get_journey(journey_id))
    return Onboarding(workflow_id=workflow["id"], journey_id=journey_id)


def privacy_officer(username: str = "officer") -> User:
    """Views onboarding journeys and may reveal their personal data."""
    user = User.objects.create_user(username=username, password="mintdemo")
    group, _ = Group.objects.get_or_create(name="Privacy officers")
    Scope.objects.get_or_create(team=group, name="Onboarding reveals", defaults={
        "actions": [Action.VIEW, Action.REVEAL], "workflow_tags": ["onboarding"]})
    user.groups.add(group)
    return user


def leaked(html: str) -> list[str]:
    return [value for value in VALUES if value.lower() in html.lower()]


@pytest.fixture
def onboarding(api: Api, mint_settings) -> Onboarding:
    return onboarding_journey(api)


@pytest.fixture
def handler_client(client: Client, case_handler: User) -> Client:
    client.force_login(case_handler)
    return client


def test_the_journey_shows_every_value_to_a_superuser_who_revealed_it(root_client: Client,
                                                                       onboarding: Onboarding) -> None:
    # The journey really holds the values the other tests look for (a test that can fail).
    assert root_client.post(onboarding.reveal_url, {"reason": "Checking the test data"}).status_code == 302
    html = root_client.get(onboarding.url).content.decode()
    assert leaked(html) == list(VALUES)
    assert "Could not verify Kari Nordmann" in html and NOTE in html


def test_a_handler_without_reveal_sees_no_declared_value_anywhere_on_the_page(handler_client: Client,
                                                                            onboarding: Onboarding) -> None:
    response = handler_client.get(onboarding.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert leaked(html) == []
    # What is shown instead: each value by its mask, in the name, the step data, the alert, the file, the log and
    # the note (masked by the journey's values, whatever else the masker takes with them).
    assert "Onboarding – K*** N***" in html
    for kind, value in [(kinds.NATIONAL_ID, "12048510092"), (kinds.BIRTH_DATE, "1985-04-12"),
                        (kinds.EMAIL, CONTACT["email"]), (kinds.ADDRESS, CONTACT["address"])]:
        assert kinds.mask(kind, value) in html
    assert re.search(r"<span>Check [^<]*\*\*\*[^<]*</span>", html)  # the alert
    assert re.search(r"download>[^<]*\*\*\*[^<]*</a>", html)  # the file
    assert re.search(r"<span>Could not [^<]*\*\*\*[^<]*</span>", html)  # the fault's log line
    assert re.search(r'<div class="note-body">[^<]*\*\*\*[^<]*</div>', html)
    assert "Reveal personal data" not in html


def test_the_regions_the_page_redraws_are_masked_too(handler_client: Client, onboarding: Onboarding) -> None:
    notes = handler_client.get(onboarding.url + "?region=notes", **HTMX)
    assert notes.status_code == 200 and 'class="note-body"' in notes.content.decode()
    assert leaked(notes.content.decode()) == []
    poll = handler_client.get(reverse("journeys:poll", kwargs={"journey_id": onboarding.journey_id})
                              + "?fp=drawn-before&sig=before", **HTMX)
    assert poll.status_code == 200 and 'id="journey-live"' in poll.content.decode()
    assert leaked(poll.content.decode()) == []


def test_the_mirror_row_shown_while_mint_is_away_is_masked(handler_client: Client, onboarding: Onboarding,
                                                            settings) -> None:
    settings.MINT_BASE_URL = f"http://127.0.0.1:{free_port()}/mint"
    html = handler_client.get(onboarding.url).content.decode()
    assert "Live details are unavailable" in html
    assert "K*** N***" in html
    assert leaked(html) == []


@pytest.mark.parametrize(("removed_by", "words"), [("retention", "by retention on"),
                                                   ("erasure", "by an erasure request on")])
def test_a_journey_whose_data_was_removed_is_drawn_from_the_mirror_without_asking_mint(
    handler_client: Client, onboarding: Onboarding, sandbox: SandboxProcess, removed_by: str, words: str,
) -> None:
    Journey.objects.filter(pk=onboarding.journey_id).update(data_removed_at=timezone.now(), data_removed_by=removed_by)
    sandbox.reset_counters()
    html = handler_client.get(onboarding.url).content.decode()
    assert f"This journey's data was removed {words}" in html
    assert "Faulted" in html  # the mirror's status
    assert leaked(html) == []
    assert {name: count for name, count in sandbox.counters().items() if name != "token"} == {}
    file_url = reverse("journeys:file", kwargs={"journey_id": onboarding.journey_id, "file_id": "any"})
    assert handler_client.get(file_url).status_code == 403
    assert {name: count for name, count in sandbox.counters().items() if name != "token"} == {}


def test_someone_who_may_reveal_still_reads_a_removed_journey_live_but_masked(
    client: Client, onboarding: Onboarding, sandbox: SandboxProcess,
) -> None:
    Journey.objects.filter(pk=onboarding.journey_id).update(data_removed_at=timezone.now(),
                                                            data_removed_by="retention")
    client.force_login(privacy_officer())
    sandbox.reset_counters()
    html = client.get(onboarding.url).content.decode()
    assert sandbox.count("getJourney") == 1
    assert "This journey's data was removed by retention on" in html
    assert "Onboarding – K*** N***" in html and "Reveal personal data" in html
    assert leaked(html) == []


def test_a_note_holding_personal_data_is_not_offered_for_editing_without_reveal(
    handler_client: Client, onboarding: Onboarding,
) -> None:
    note_id = get_client().list_journey_notes(onboarding.journey_id).data[0].id
    response = handler_client.get(reverse("journeys:note_edit", kwargs={"journey_id": onboarding.journey_id,
                                                                "note_id": note_id}))
    assert response.status_code == 403
    assert leaked(response.content.decode()) == []
