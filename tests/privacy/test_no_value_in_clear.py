"""No personal value in clear, anywhere a person without a reveal can look (issue 16's first "done when").

Over random declarations and data (Hypothesis draws the kinds and the values), a real sandbox journey carries
declared personal values in its input, its name ("Case <value>"), a generated file's name, a note and a launch
record. Every routed page of the portal (the URL resolver's own list, so a new page is walked the day it is
routed), as a full page and as an htmx request, every export (CSV, PDF read back as text, zip), and every mail the
notifications send, is then read as each persona: none of them may show a declared value, word by word for names
and addresses. A person with the right to reveal sees masks too until they press Reveal, which shows the values
and is audited once.
"""

from __future__ import annotations

import io
import string
import uuid
import zipfile
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from accounts.models import AuditEvent
from bulk.selectors import Selection
from bulk.services import bulk_job_create
from journeys.services.sync import journey_refresh
from launches.models import Launch, LaunchStatus
from mintportal.mint import get_client, models
from notifications.models import Mode
from notifications.services import notifications_send, preference_set
from privacy import kinds
from privacy.services import declaration_save
from tests.mint_parts import link, step
from tests.personas import place_workflow
from tests.test_access_matrix import portal_patterns

pytestmark = pytest.mark.django_db

# Routes that cannot show a journey's data, or that act rather than show (POST-only routes answer 405 to GET).
SKIPPED_NAMESPACES = ("admin",)
PERSONAS = ("case_handler", "approver", "operator", "admin")

letters = st.text(alphabet=string.ascii_lowercase, min_size=5, max_size=9)


@st.composite
def personal_value(draw: st.DrawFn, kind: str) -> str:
    """A value of ``kind`` distinctive enough that finding it (or, for names and addresses, one of its words) in
    a page means it leaked."""
    if kind in (kinds.NAME, kinds.ADDRESS, kinds.FREE_TEXT):
        return " ".join(word.capitalize() for word in draw(st.lists(letters, min_size=2, max_size=3, unique=True)))
    if kind == kinds.EMAIL:
        return f"{draw(letters)}.{draw(letters)}@{draw(letters)}.example"
    if kind == kinds.BIRTH_DATE:
        return f"19{draw(st.integers(10, 99))}-0{draw(st.integers(1, 9))}-1{draw(st.integers(0, 9))}"
    digits = draw(st.text(alphabet=string.digits, min_size=9, max_size=11))
    return "7" + digits if kind != kinds.BANK_ACCOUNT else "NO9" + digits


@st.composite
def cases(draw: st.DrawFn) -> dict[str, tuple[str, str]]:
    """Input field → (kind, value): ``case`` (which names the journey and its file) and up to two more."""
    fields = {"case": draw(st.sampled_from([kinds.NAME, kinds.NATIONAL_ID, kinds.EMAIL, kinds.DOCUMENT_NUMBER]))}
    for extra in draw(st.lists(st.sampled_from(["applicant", "born", "iban", "street"]), max_size=2, unique=True)):
        fields[extra] = draw(st.sampled_from(sorted(kinds.KINDS)))
    return {field: (kind, draw(personal_value(kind))) for field, kind in fields.items()}


def leaks(kind: str, value: str) -> list[str]:
    """What must not appear: the value, and for word-wise kinds each of its words."""
    found = [value]
    if kind in kinds.WORDWISE:
        found += [word for word in value.split() if len(word) >= 4]
    return found


def readable(response: Any) -> str:
    """A response as text a person could read: PDFs through their text, zips through their members."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    kind = response.get("Content-Type", "")
    if kind.startswith("application/pdf"):
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)
    if kind.startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            parts = []
            for name in archive.namelist():
                member = archive.read(name)
                parts.append(name)
                if name.endswith(".pdf"):
                    parts += [page.extract_text() or "" for page in PdfReader(io.BytesIO(member)).pages]
                else:
                    parts.append(member.decode(errors="replace"))
            return "\n".join(parts)
    return raw.decode(errors="replace") + response.get("Location", "") + response.get("HX-Redirect", "")


def journey_set_up(admin: User, operator: User, values: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """A journey of a new workflow in the personas' scope, waiting for approval, with the declared ``values`` as
    its input (``case`` names it and its generated file), a note that quotes one, a launch record and a bulk job."""
    client = get_client()
    workflow = client.create_workflow(models.WorkflowInput(
        name=f"Personal {uuid.uuid4().hex[:8]}",
        steps=[
            step("name", "set-name", template="Case {{ input.case }}"),
            step("doc", "generate-document", filename="{{ input.case }}.txt", content="Case {{ input.case }}"),
            step("check", "require-approval"), step("end", "finish"),
        ],
        connections=[link("name", "doc"), link("doc", "check"), link("check", "end", "Approved")],
        input_parameters=[models.WorkflowInputParameter(name=field) for field in values],
    ))
    place_workflow(workflow.id, tags=["onboarding"], name=workflow.name or "")
    declaration_save(actor=admin, workflow_id=workflow.id, version=1,
                     fields=[{"path": f"input.{field}", "kind": kind} for field, (kind, _) in values.items()])
    journey_input = {field: value for field, (_, value) in values.items()}
    started = client.start_journey(workflow.id, input=journey_input)
    note = client.create_journey_note(started.journey_id,
                                      content=f"Called about {values['case'][1]} today")
    journey_refresh(journey_id=started.journey_id)
    journey = client.get_journey(started.journey_id)
    token = uuid.uuid4().hex[:8]
    launch = Launch.objects.create(key=f"walk-{token}", workflow_id=workflow.id, input=journey_input,
                                   journey_url_ttl=60, status=LaunchStatus.STARTED, created_by=operator,
                                   created_at=timezone.now(), journey_id=journey.id)
    job = bulk_job_create(user=operator, action="note", params={"content": "walk"}, key=f"walk-{token}",
                          selection=Selection(journey_ids=(journey.id,), description="walk", query=""))
    return {
        "journey_id": journey.id, "workflow_id": workflow.id, "note_id": note.id, "step_id": "check",
        "file_id": journey.files[0].id if journey.files else "none", "version": 1, "launch_id": launch.id,
        "job_id": job.id,
    }


def walk(user: User, ids: dict[str, Any], forbidden: list[str]) -> list[str]:
    """Every GET route the ids can fill, full and htmx, for ``user``; the leaks found."""
    client = Client()
    client.force_login(user)
    problems = []
    for name, arguments in portal_patterns():
        if name.split(":")[0] in SKIPPED_NAMESPACES or not set(arguments) <= set(ids):
            continue
        try:
            url = reverse(name, kwargs={argument: ids[argument] for argument in arguments})
        except NoReverseMatch:
            continue
        queries = ["", f"?workflow={ids['workflow_id']}", "?region=notes"] if arguments == ["journey_id"] else [""]
        if name in ("journeys:list", "journeys:export"):
            queries += [f"?workflow={ids['workflow_id']}&cols=case", f"?q={ids['journey_id']}"]
        for query in queries:
            # Regions are drawn by the same selectors as their pages; htmx requests are walked where pages
            # answer them with a region of their own.
            for htmx in (False, True) if name.split(":")[0] in ("journeys", "approvals", "bulk") else (False,):
                response = client.get(url + query, headers={"HX-Request": "true"} if htmx else {})
                if response.status_code >= 500:
                    problems.append(f"{url}{query}: {response.status_code}")
                    continue
                body = readable(response).casefold()
                problems += [f"{user.get_username()} GET {url}{query}{' (htmx)' if htmx else ''} shows {text!r}"
                             for text in forbidden if text.casefold() in body]
    return problems


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=cases())
def test_no_page_export_or_mail_shows_a_personal_value_in_clear(
    request: pytest.FixtureRequest, mint_settings, values: dict[str, tuple[str, str]]
) -> None:
    users: dict[str, User] = {}
    for persona in PERSONAS:
        users[persona] = request.getfixturevalue(persona)
        # Listening from before the journey starts, so its new work is mailed at once.
        users[persona].email = f"{users[persona].get_username()}@example.org"
        users[persona].save(update_fields=["email"])
        preference_set(user=users[persona], mode=Mode.IMMEDIATE)
    ids = journey_set_up(users["admin"], users["operator"], values)
    forbidden = [text for kind, value in values.values() for text in leaks(kind, value)]
    mail.outbox = []
    problems: list[str] = []
    for persona in PERSONAS:
        problems += walk(users[persona], ids, forbidden)
    notifications_send()
    assert mail.outbox, "the walk expects the approvers' new-work mails to check"
    for message in mail.outbox:
        text = (message.subject + "\n" + message.body + "".join(
            str(content) for content, _ in getattr(message, "alternatives", []))).casefold()
        problems += [f"mail to {message.to} shows {value!r}" for value in forbidden if value.casefold() in text]
    assert not problems, "\n".join(problems[:40])


def test_reveal_shows_the_values_only_after_a_reason_and_audits_once(
    mint_settings, admin: User, operator: User
) -> None:
    values = {"case": (kinds.NAME, "Quillon Vantrebo"), "born": (kinds.NATIONAL_ID, "71234567890")}
    ids = journey_set_up(admin, operator, values)
    client = Client()
    client.force_login(admin)
    page = reverse("journeys:detail", kwargs={"journey_id": ids["journey_id"]})
    document = reverse("journeys:file", kwargs={"journey_id": ids["journey_id"], "file_id": ids["file_id"]})
    before = client.get(page).content.decode()
    assert "Quillon" not in before and "71234567890" not in before
    assert "Reveal personal data" in before
    # The generated document is about the person and cannot be masked: it opens only once revealed.
    assert client.get(document).status_code == 403
    refused = client.post(reverse("journeys:reveal", kwargs={"journey_id": ids["journey_id"]}), {"reason": " "})
    assert refused.status_code == 400
    assert "Quillon" not in client.get(page).content.decode()
    assert client.get(document).status_code == 403
    assert not AuditEvent.objects.filter(action="journey.reveal").exists()
    revealed = client.post(reverse("journeys:reveal", kwargs={"journey_id": ids["journey_id"]}),
                           {"reason": "Customer called to check the spelling"})
    assert revealed.status_code == 302
    assert "Case Quillon Vantrebo" in client.get(page).content.decode()
    opened = client.get(document)
    assert opened.status_code == 200
    assert b"Quillon Vantrebo" in b"".join(opened.streaming_content) if opened.streaming else opened.content
    events = AuditEvent.objects.filter(action="journey.reveal", journey_id=ids["journey_id"])
    assert events.count() == 1
    assert "Quillon" not in str(events[0].detail) and "71234567890" not in str(events[0].detail)
    assert "Quillon" not in events[0].summary
    # Nobody else sees what the admin revealed, and the lists stay masked for the admin too.
    listed = client.get(reverse("journeys:list") + f"?workflow={ids['workflow_id']}").content.decode()
    assert "Quillon" not in listed
