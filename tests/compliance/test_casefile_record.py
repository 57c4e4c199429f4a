"""A journey's case file as its reader may see it (compliance/casefile_record.py), assembled from the sandbox's Mint,
the mirror, the approvals and the audit trail, then rendered and read back as an auditor would (pypdf).

The journey is the demo's onboarding: eID login, contact details, compliance approval, a welcome letter, with
the login's and the details' personal fields declared.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from accounts.models import AuditEvent
from approvals.services import approval_decide
from compliance.casefile import content_digest, render, verify
from compliance.casefile_jobs import casefile_file_name
from compliance.casefile_record import WITHHELD_TEXT, casefile_for, format_time
from journeys.models import Journey
from journeys.services.notes import journey_note_create
from journeys.services.sync import journey_refresh
from launches.models import Launch, LaunchStatus
from mintportal.errors import NotVisible
from mintportal.mint import MintClient, get_client, models
from privacy.masking import Masker
from privacy.models import PersonalDataDeclaration
from privacy.services import reveal
from tests.personas import place_workflow

pytestmark = pytest.mark.django_db

NAME, NATIONAL_ID = "Kari Nordmann", "01019912345"
EMAIL, PHONE, ADDRESS = "kari.nordmann@example.com", "+47 91234567", "Storgata 12, 8006 Bodø"
# Every clear value, and the pieces of them a careless mask would leave readable.
CLEAR_VALUES = (NAME, "Kari", "Nordmann", NATIONAL_ID, EMAIL, "91234567", "Storgata", "1999-01-01")
DECLARED = [
    {"path": "steps.login.name", "kind": "name"},
    {"path": "steps.login.nationalId", "kind": "national_id"},
    {"path": "steps.login.birthDate", "kind": "birth_date"},
    {"path": "steps.details.email", "kind": "email"},
    {"path": "steps.details.phone", "kind": "phone"},
    {"path": "steps.details.address", "kind": "address"},
]
SECTIONS = ("CASE FILE", "Masking", "Retention", "Summary", "Input", "Steps", "Timeline", "Alerts", "Files", "Notes",
            "Decisions", "Portal audit events", "End of case file.")
FOOTER_DIGEST = re.compile(r"SHA-256 ([0-9a-f]{64})")
PNG = Path("/tmp/casefile-onboarding.png")


def _step(step_id: str, step_type: str, title: str, **properties: object) -> models.WorkflowStep:
    return models.WorkflowStep(id=step_id, type=step_type, display_name=title, properties=properties or None)


def _link(source: str, target: str, outcome: str | None = None) -> models.WorkflowStepConnection:
    return models.WorkflowStepConnection(source_step_id=source, target_step_id=target, outcome=outcome)


def onboarding_workflow(mint: MintClient, *, tags: list[str]) -> str:
    """The demo's onboarding workflow (version 2, with the welcome letter), mirrored with ``tags``, its personal
    fields declared; returns its id."""
    workflow = mint.create_workflow(models.WorkflowInput(
        name=f"Customer onboarding {uuid.uuid4().hex[:6]}",
        steps=[
            _step("login", "eid-login", "Identify with BankID"),
            _step("details", "form", "Contact details", fields=[
                {"name": "email", "label": "Email", "type": "email", "required": True},
                {"name": "phone", "label": "Mobile phone", "type": "text", "required": True},
                {"name": "address", "label": "Home address", "type": "text", "required": True},
                {"name": "occupation", "label": "Occupation", "type": "text"},
            ]),
            _step("name", "set-name", "Name the journey", template="Onboarding – {{ steps.login.name }}"),
            _step("approval", "require-approval", "Compliance approval"),
            _step("welcome", "generate-document", "Welcome letter", filename="welcome-{{ input.customerNumber }}.txt",
                  content="Welcome, {{ steps.login.name }}! We will contact you at {{ steps.details.email }}."),
            _step("done", "finish", "Customer onboarded"),
            _step("rejected", "finish", "Rejected"),
        ],
        connections=[_link("login", "details", "Success"), _link("details", "name"), _link("name", "approval"),
                     _link("approval", "welcome", "Approved"), _link("approval", "rejected", "Rejected"),
                     _link("welcome", "done")],
        input_parameters=[models.WorkflowInputParameter(name="customerNumber"),
                          models.WorkflowInputParameter(name="product")],
    ))
    place_workflow(workflow.id, tags=tags, name=workflow.name or "")
    PersonalDataDeclaration.objects.create(workflow_id=workflow.id, version=workflow.version, fields=DECLARED,
                                           updated_at=timezone.now())
    return workflow.id


def onboarding_journey(mint: MintClient, workflow_id: str, *, approver: User, case_handler: User,
                       customer: str = "C-100412") -> Journey:
    """An onboarding journey taken through login, details, a note and the approval, as the demo's are; mirrored."""
    started = mint.start_journey(workflow_id, input={"customerNumber": customer, "product": "Savings account"})
    journey_id = started.journey_id
    Launch.objects.create(key=f"test-{journey_id}", workflow_id=workflow_id, journey_url_ttl=60,
                          status=LaunchStatus.STARTED, created_by=case_handler, created_at=timezone.now(),
                          journey_id=journey_id)
    mint.resume_journey(journey_id, step_id="login", input={
        "name": NAME, "nationalId": NATIONAL_ID, "birthDate": "1999-01-01", "country": "NO"})
    mint.resume_journey(journey_id, step_id="details", input={
        "email": EMAIL, "phone": PHONE, "address": ADDRESS, "occupation": "Engineer"})
    journey_refresh(journey_id=journey_id)
    journey_note_create(actor=case_handler, journey_id=journey_id, workflow_id=workflow_id, step_id="details",
                        content=f"{NAME} called to confirm the address; it matches the register.")
    approval_decide(user=approver, journey_id=journey_id, step_id="approval", approved=True,
                    reason=f"Identity of {NAME} verified with BankID; screening clear.")
    row = journey_refresh(journey_id=journey_id)
    assert row is not None
    return Journey.objects.get(pk=journey_id)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """Without whitespace, so a value the layout wrapped is still found."""
    return re.sub(r"\s+", "", text)


def clear_values_in(text: str) -> list[str]:
    return [value for value in CLEAR_VALUES if flat(value).casefold() in flat(text).casefold()]


@pytest.fixture
def onboarding(mint: MintClient, approver: User, case_handler: User) -> Journey:
    workflow_id = onboarding_workflow(mint, tags=["onboarding"])
    return onboarding_journey(mint, workflow_id, approver=approver, case_handler=case_handler)


def test_a_reader_without_reveal_gets_every_section_and_no_clear_value(onboarding: Journey, case_handler: User,
                                                                       approver: User) -> None:
    case = casefile_for(user=case_handler, journey_id=onboarding.id)
    pdf = render(case)
    text = pdf_text(pdf)
    assert clear_values_in(text) == []
    for section in SECTIONS:
        assert section in text, section
    assert "Personal data masked: 6 declared fields (the reader has no reveal right)" in " ".join(text.split())
    # The masks are there instead, and what is not personal is shown as it is.
    assert "******2345" in text
    assert "Engineer" in flat(text)
    assert "C-100412" in text
    assert [step.step_id for step in case.steps][:3] == ["login", "details", "name"]
    assert case.steps[0].title == "Identify with BankID"
    # The approver and their reason (its name masked), the note (masked), the portal's audit events.
    assert [(d.approver, d.verdict) for d in case.decisions][-1] == (approver.get_username(), "Approved")
    assert "verified with BankID" in case.decisions[-1].reason
    assert NAME not in case.decisions[-1].reason
    assert [note.author for note in case.notes] == [case_handler.get_username()]
    assert "note.create" in {event.action for event in case.audit}
    assert case.generated_by == case_handler.get_username()
    assert dict(case.facts)["Started by"].startswith(f"{case_handler.get_username()}, from the portal, ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", case.generated_at)


def test_the_footer_digest_is_the_records_digest(onboarding: Journey, case_handler: User) -> None:
    case = casefile_for(user=case_handler, journey_id=onboarding.id)
    digests = set(FOOTER_DIGEST.findall(pdf_text(render(case))))
    assert digests == {content_digest(case)}
    assert verify(case, digests.pop())


def test_files_are_listed_with_the_sha256_of_their_content(onboarding: Journey, case_handler: User) -> None:
    journey = get_client().get_journey(onboarding.id)
    assert journey.files, "the welcome letter"
    content = get_client().download_journey_file(onboarding.id, journey.files[0].id).content
    case = casefile_for(user=case_handler, journey_id=onboarding.id)
    assert [(f.name, f.size_bytes, f.sha256) for f in case.files] == [
        ("welcome-C-100412.txt", len(content), hashlib.sha256(content).hexdigest())]


def test_a_reader_with_the_right_sees_masks_until_they_reveal_then_clear_values(onboarding: Journey,
                                                                               admin: User) -> None:
    before = pdf_text(render(casefile_for(user=admin, journey_id=onboarding.id)))
    assert clear_values_in(before) == []
    assert "the reader has not revealed this journey's data" in " ".join(before.split())
    reveal(actor=admin, journey_id=onboarding.id, workflow_id=onboarding.workflow_id, reason="Customer complaint 77",
           fields=[field["path"] for field in DECLARED])
    case = casefile_for(user=admin, journey_id=onboarding.id)
    after = pdf_text(render(case))
    assert clear_values_in(after) == list(CLEAR_VALUES)
    assert case.masking.startswith(f"Personal data shown in clear: revealed by {admin.get_username()} at ")
    assert "reason: Customer complaint 77" in case.masking


def test_a_journey_outside_the_readers_scope_is_not_visible(mint: MintClient, approver: User, case_handler: User,
                                                            outsider: User) -> None:
    workflow_id = onboarding_workflow(mint, tags=["batch"])
    started = mint.start_journey(workflow_id, input={"customerNumber": "C-1", "product": "Savings account"})
    journey_refresh(journey_id=started.journey_id)
    for reader in (case_handler, outsider):
        with pytest.raises(NotVisible):
            casefile_for(user=reader, journey_id=started.journey_id)
    with pytest.raises(NotVisible):
        casefile_for(user=case_handler, journey_id="no-such-journey")


def test_after_retention_nothing_is_read_from_mint_for_a_reader_who_may_not_reveal(
        onboarding: Journey, case_handler: User, sandbox) -> None:
    # As retention does it: the name masked by the journey's own markers (the mirror stores it masked already),
    # then the data and markers gone.
    masked_name = Masker.for_data(onboarding.data).text(onboarding.name)
    assert "Nordmann" not in masked_name
    Journey.objects.filter(pk=onboarding.id).update(name=masked_name, data={}, data_removed_at=timezone.now(),
                                                    data_removed_by="retention")
    sandbox.reset_counters()
    case = casefile_for(user=case_handler, journey_id=onboarding.id)
    called = {name for name, count in sandbox.counters().items() if count}
    assert not called & {"getJourney", "getJourneyLog", "listJourneyNotes", "downloadJourneyFile"}, called
    assert case.retention_note.startswith("Input and step data removed by retention on ")
    assert (case.input, case.steps, case.timeline, case.files, case.notes) == ([], [], [], [], [])
    # The portal's own records stay (the decision and the audit events), but not their free text, which quoted
    # the name and can no longer be masked.
    assert [decision.verdict for decision in case.decisions] == ["Vote: approve", "Approved"]
    assert {decision.reason for decision in case.decisions} == {WITHHELD_TEXT}
    assert "note.create" in {event.action for event in case.audit}
    assert clear_values_in(pdf_text(render(case))) == []


def test_page_one_of_the_onboarding_case_file_renders_to_png(onboarding: Journey, case_handler: User) -> None:
    pdf = render(casefile_for(user=case_handler, journey_id=onboarding.id))
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=2).to_pil()
    image.save(PNG)
    # The other pages beside it, for a person reviewing the layout.
    for number in range(1, len(document)):
        document[number].render(scale=2).to_pil().save(PNG.with_name(f"{PNG.stem}-p{number + 1}.png"))
    assert image.size[0] > 1000
    assert AuditEvent.objects.filter(journey_id=onboarding.id, action="journey.case_file").count() == 0


@given(moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
       zone=st.sampled_from(["UTC", "Europe/Oslo", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham"]))
def test_times_are_written_in_the_active_zone_with_its_name(moment: datetime, zone: str) -> None:
    with timezone.override(zone):
        written = format_time(moment)
    stamp, label = written[:19], written[20:]
    local = moment.astimezone(ZoneInfo(zone))
    assert stamp == local.strftime("%Y-%m-%d %H:%M:%S")
    assert label and " " not in label
    assert label in {local.tzname(), zone}


@given(journey_id=st.text(max_size=100))
def test_a_case_file_name_is_a_plain_file_name_whatever_the_journey_id(journey_id: str) -> None:
    name = casefile_file_name(journey_id)
    assert re.fullmatch(r"case-file-[A-Za-z0-9._-]*\.pdf", name)
    assert "/" not in name and "\\" not in name
    assert len(name) == len("case-file-.pdf") + len(journey_id)
