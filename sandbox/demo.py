"""``python -m sandbox demo``: loads realistic demo workflows and a few hundred journeys (idempotent).

Four workflows (customer onboarding, contract signing, address change, a batch KYC check) with versions, tags,
input parameters and files, and journeys spread over every status and the last 30 days: waiting for an end
user's form or eID login, for an approval (onboarding's compliance approval, contract sign-off), for manual
continuation, on a timer; finished, faulted, cancelled, idle and running. Everything runs through the sandbox's
real services and engine with the sandbox clock set to the moment each action happened, so step data,
execution logs, alerts, files and notes are consistent.

The load is one transaction: it either completes or leaves nothing. A second run finds the demo workflows and
changes nothing. Random choices come from a fixed seed, so every fresh database gets the same shape of data.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count

from sandbox.core import clock, engine, services
from sandbox.core.auth import FLOW_EDITOR, FLOW_VIEWER, Caller
from sandbox.core.documents import render_pdf
from sandbox.core.models import Journey, JourneyState, JourneyStatus, JourneyWait, WaitKind, WorkflowVersion
from sandbox.oidc.demo import people_ensure_demo

SEED = 20240601
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)

ONBOARDING = "Customer onboarding"
CONTRACT = "Contract signing"
ADDRESS_CHANGE = "Address change"
BATCH_CHECK = "Batch KYC check"

FIRST_NAMES = [
    "Kari", "Ola", "Ingrid", "Lars", "Sofia", "Erik", "Maja", "Jonas", "Emma", "Mikkel", "Astrid", "Henrik",
    "Nora", "Oskar", "Freja", "Anders", "Liv", "Magnus", "Sara", "Johan", "Elin", "Tobias", "Hanna", "Peter",
    "Aino", "Mateusz", "Julia", "Thomas", "Marta", "Daniel",
]
LAST_NAMES = [
    "Nordmann", "Hansen", "Johansson", "Lindqvist", "Andersen", "Nieminen", "Berg", "Dahl", "Eriksen", "Larsen",
    "Karlsson", "Virtanen", "Haugen", "Nilsen", "Jensen", "Olsen", "Pedersen", "Bakken", "Solberg", "Kowalski",
    "Lund", "Strand", "Holm", "Moen", "Ek",
]
COMPANIES = [
    "Fjordline Logistics AS", "Nordlys Energi AS", "Skagerrak Seafood AB", "Bergen Byggservice AS",
    "Kvarken Consulting Oy", "Solstad Eiendom AS", "Trondheim Tech AS", "Malmö Design Studio AB",
    "Aurora Health ApS", "Hardanger Fruit Co-op", "Oslo Urban Mobility AS", "Tampere Robotics Oy",
]
STREETS = [
    "Storgata 12", "Kirkeveien 45B", "Drottninggatan 8", "Strandvejen 101", "Mannerheimintie 22 A 5",
    "Bryggen 3", "Sandviksveien 17", "Vasagatan 31", "Nørrebrogade 64", "Havnegata 9",
]
CITIES = [("0151", "Oslo"), ("5003", "Bergen"), ("7011", "Trondheim"), ("111 20", "Stockholm"),
          ("2200", "København N"), ("00100", "Helsinki"), ("4006", "Stavanger")]
NOTE_TEXTS = [
    "Called the customer to confirm the details; all good.",
    "Customer asked for a copy of the terms by email.",
    "Waiting for the customer to upload a utility bill.",
    "Checked the national registry: address matches.",
    "Escalated to compliance because of the risk score.",
    "Customer prefers to be contacted after 16:00.",
    "Spoke with the account manager; proceed as planned.",
    "Duplicate of an earlier request, kept for reference.",
    "Reminder sent by SMS.",
    "Verified identity documents in the branch.",
]


# --- the workflow definitions --------------------------------------------------------------------------------


def step(step_id: str, step_type: str, display_name: str, **properties: Any) -> dict[str, Any]:
    return {"id": step_id, "type": step_type, "displayName": display_name, "properties": properties or None}


def link(source: str, target: str, outcome: str | None = None) -> dict[str, Any]:
    return {"sourceStepId": source, "targetStepId": target, "outcome": outcome}


def definition(name: str, description: str, tags: list[str], inputs: list[str], steps: list[dict[str, Any]],
               connections: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "tags": tags,
        "inputParameters": [{"name": key} for key in inputs],
        "steps": steps,
        "connections": connections,
        "variables": {"supportEmail": "support@example.com"},
    }


def onboarding(*, with_welcome_letter: bool) -> dict[str, Any]:
    """eID login → details form → name → approval → (v2: welcome letter) → finish; rejected or aborted paths."""
    steps = [
        step("login", "eid-login", "Identify with BankID"),
        step("details", "form", "Contact details", fields=[
            {"name": "email", "label": "Email", "type": "email", "required": True},
            {"name": "phone", "label": "Mobile phone", "type": "text", "required": True},
            {"name": "address", "label": "Home address", "type": "text", "required": True},
            {"name": "occupation", "label": "Occupation", "type": "text", "required": False},
            {"name": "pep", "label": "I am a politically exposed person", "type": "checkbox", "required": False},
        ]),
        step("name", "set-name", "Name the journey", template="Onboarding – {{ steps.login.name }}"),
        step("approval", "require-approval", "Compliance approval"),
        step("rejected-alert", "trigger-alert", "Flag rejection", severity="warning",
             message="Onboarding of {{ steps.login.name }} was rejected: {{ steps.approval.message }}"),
        step("rejected", "finish", "Rejected"),
        step("aborted", "fault", "Identification aborted", message="The customer aborted the eID login."),
        step("done", "finish", "Customer onboarded"),
    ]
    connections = [
        link("login", "details", "Success"),
        link("login", "aborted", "Aborted"),
        link("details", "name"),
        link("name", "approval"),
        link("approval", "rejected-alert", "Rejected"),
        link("rejected-alert", "rejected"),
    ]
    if with_welcome_letter:
        steps.append(step("welcome", "generate-document", "Welcome letter", format="pdf",
                          filename="welcome-{{ input.customerNumber }}.pdf",
                          content="Welcome, {{ steps.login.name }}!\n\nYour customer number is "
                                  "{{ input.customerNumber }}.\nWe will contact you at {{ steps.details.email }}.\n"
                                  "Questions? Write to {{ variables.supportEmail }}."))
        connections += [link("approval", "welcome", "Approved"), link("welcome", "done")]
    else:
        connections.append(link("approval", "done", "Approved"))
    return definition(
        ONBOARDING, "New private customers identify with eID, give their contact details and are approved by "
        "compliance before the account opens.", ["onboarding", "kyc"], ["customerNumber", "product"],
        steps, connections,
    )


def contract_signing() -> dict[str, Any]:
    """Name → contract PDF → email → customer review form → accepted? sign-off approval → receipt : alert + fault.

    The company signs off an accepted contract (``signoff``, a require-approval step) before the receipt: the
    portal's demo policy on the ``contracts`` tag asks two approvers for it, so four-eyes can be tried there.
    """
    return definition(
        CONTRACT, "Business customers receive their service contract as a PDF, review it and accept or decline; "
        "an accepted contract is signed off by two approvers before the receipt.",
        ["contracts", "b2b"], ["company", "contactName", "contactEmail", "monthlyFee"],
        [
            step("name", "set-name", "Name the journey", template="Contract – {{ input.company }}"),
            step("contract", "generate-document", "Generate contract", format="pdf",
                 filename="contract-{{ input.company }}.pdf",
                 content="SERVICE AGREEMENT\n\nCustomer: {{ input.company }}\nContact: {{ input.contactName }}\n"
                         "Monthly fee: EUR {{ input.monthlyFee }}\n\nThe parties agree to the attached terms."),
            step("notify", "send-email", "Send contract", to="{{ input.contactEmail }}",
                 subject="Your contract with us", body="Dear {{ input.contactName }}, please review the "
                 "attached contract for {{ input.company }}."),
            step("review", "form", "Review the contract", fields=[
                {"name": "accepted", "label": "I accept the agreement", "type": "checkbox", "required": False},
                {"name": "signatory", "label": "Signatory's full name", "type": "text", "required": True},
                {"name": "comments", "label": "Comments", "type": "textarea", "required": False},
            ]),
            step("accepted", "if-else", "Accepted?", left="{{ steps.review.accepted }}", operator="eq",
                 right=True),
            step("signoff", "require-approval", "Contract sign-off"),
            step("receipt", "generate-document", "Signing receipt", format="text", filename="signing-receipt.txt",
                 content="{{ steps.review.signatory }} accepted the agreement for {{ input.company }}.\n"
                         "Signed off: {{ steps.signoff.message }}"),
            step("done", "finish", "Signed"),
            step("declined-alert", "trigger-alert", "Flag declined contract", severity="warning",
                 message="{{ input.company }} declined the contract: {{ steps.review.comments }}"),
            step("declined", "fault", "Declined", message="The customer declined the contract."),
            step("refused-alert", "trigger-alert", "Flag refused sign-off", severity="warning",
                 message="The contract with {{ input.company }} was not signed off: {{ steps.signoff.message }}"),
            step("refused", "fault", "Not signed off", message="The contract was not signed off."),
        ],
        [
            link("name", "contract"), link("contract", "notify"), link("notify", "review"),
            link("review", "accepted"), link("accepted", "signoff", "True"),
            link("signoff", "receipt", "Approved"), link("receipt", "done"),
            link("signoff", "refused-alert", "Rejected"), link("refused-alert", "refused"),
            link("accepted", "declined-alert", "False"), link("declined-alert", "declined"),
        ],
    )


def address_change(*, with_letter: bool) -> dict[str, Any]:
    """Name → alert → suspend for a case handler → verified? confirmation (+ v2: letter) : critical alert + fault."""
    steps = [
        step("name", "set-name", "Name the journey", template="Address change – {{ input.customerName }}"),
        step("requested", "trigger-alert", "Note the request", severity="info",
             message="Address change requested for customer {{ input.customerNumber }}."),
        step("verify", "suspend", "Verify proof of address"),
        step("verified", "if-else", "Verified?", left="{{ steps.verify.verified }}", operator="eq", right=True),
        step("confirmation", "generate-document", "Confirmation", format="text",
             filename="address-confirmation-{{ input.customerNumber }}.txt",
             content="New address for {{ input.customerName }}: {{ input.newAddress }}.\n"
                     "Verified by {{ steps.verify.handledBy }}."),
        step("done", "finish", "Address updated"),
        step("unverified", "trigger-alert", "Flag failed check", severity="critical",
             message="Proof of address for {{ input.customerName }} could not be verified."),
        step("failed", "fault", "Not verified", message="The new address could not be verified."),
    ]
    connections = [
        link("name", "requested"), link("requested", "verify"), link("verify", "verified"),
        link("verified", "confirmation", "True"), link("verified", "unverified", "False"),
        link("unverified", "failed"),
    ]
    if with_letter:
        steps.append(step("letter", "send-email", "Confirm by email", to="{{ input.email }}",
                          subject="Your address has been updated",
                          body="Dear {{ input.customerName }}, we have registered your new address."))
        connections += [link("confirmation", "letter"), link("letter", "done")]
    else:
        connections.append(link("confirmation", "done"))
    return definition(
        ADDRESS_CHANGE, "Customer service registers a new address after a case handler has checked the proof.",
        ["customer-service"], ["customerNumber", "customerName", "newAddress", "email"], steps, connections,
    )


def batch_check() -> dict[str, Any]:
    """Name → for each customer: high risk? critical alert → cool-off timer → report → finish."""
    return definition(
        BATCH_CHECK, "Nightly screening of a batch of customers: high risk scores raise an alert, and the report "
        "is produced after a cool-off period for manual corrections.", ["batch", "kyc"], ["batchId", "customers"],
        [
            step("name", "set-name", "Name the journey", template="KYC batch {{ input.batchId }}"),
            step("each", "for-each", "Each customer", items="{{ input.customers }}"),
            step("risky", "if-else", "High risk?", left="{{ loop.item.riskScore }}", operator="gt", right=70),
            step("flag", "trigger-alert", "Flag customer", severity="critical",
                 message="High risk: {{ loop.item.name }} (score {{ loop.item.riskScore }})"),
            step("cool-off", "waiting", "Cool-off period", delay=86400),
            step("report", "generate-document", "Screening report", format="pdf",
                 filename="kyc-{{ input.batchId }}.pdf",
                 content="KYC screening of batch {{ input.batchId }}\n\nCustomers: {{ steps.each.count }}"),
            step("done", "finish", "Done"),
        ],
        [
            link("name", "each"), link("each", "risky", "Iterate"), link("risky", "flag", "True"),
            link("each", "cool-off", "Done"), link("cool-off", "report"), link("report", "done"),
        ],
    )


# --- driving the engine at chosen moments ----------------------------------------------------------------------


@dataclass
class Loader:
    """Creates the demo data; ``now`` is the real time the load started, and every action is dated before it."""

    rng: random.Random
    now: datetime
    caller: Caller

    def at(self, moment: datetime, action: Callable[[], Any]) -> Any:
        """Runs ``action`` with the sandbox clock set to ``moment``."""
        clock.travel_to(moment)
        try:
            return action()
        finally:
            clock.reset()

    def ago(self, low: timedelta, high: timedelta) -> datetime:
        return self.now - timedelta(seconds=self.rng.uniform(low.total_seconds(), high.total_seconds()))

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def address(self) -> str:
        postcode, city = self.rng.choice(CITIES)
        return f"{self.rng.choice(STREETS)}, {postcode} {city}"

    # workflows

    def workflow(self, body: dict[str, Any], moment: datetime) -> str:
        return self.at(moment, lambda: services.workflow_create(body=body))["id"]

    def new_version(self, workflow_id: str, body: dict[str, Any], moment: datetime) -> None:
        self.at(moment, lambda: services.workflow_update(workflow_id=workflow_id, body=body))

    def publish(self, workflow_id: str, version: int, moment: datetime) -> None:
        self.at(moment, lambda: services.workflow_publish(workflow_id=workflow_id, version=str(version)))

    def attach(self, workflow_id: str, filename: str, content: bytes, content_type: str, moment: datetime) -> None:
        upload = SimpleUploadedFile(filename, content, content_type=content_type)
        self.at(moment, lambda: services.workflow_file_upload(workflow_id=workflow_id, upload=upload))

    # journeys

    def start(self, workflow_id: str, journey_input: dict[str, Any], moment: datetime) -> str:
        body = {"input": journey_input}
        return self.at(moment, lambda: services.journey_start(workflow_id=workflow_id, body=body))["journeyId"]

    def idle(self, workflow_id: str, journey_input: dict[str, Any], moment: datetime) -> str:
        """A journey created but not yet run: the sandbox's engine starts journeys at once, so it is written as
        ``journey_start`` writes it before the engine's first step."""
        version = WorkflowVersion.objects.get(workflow_id=workflow_id, is_current_published=True)
        journey = Journey.objects.create(workflow_id=workflow_id, version=version.version, workflow_version=version,
                                         workflow_name=version.name, created_at=moment, status=JourneyStatus.IDLE)
        JourneyState.objects.create(journey=journey, input=journey_input)
        return journey.id

    def end_user(self, journey_id: str, step_id: str, outcome: str, output: dict[str, Any], moment: datetime) -> None:
        self.at(moment, lambda: services.journey_end_user_complete(
            journey_id=journey_id, step_id=step_id, outcome=outcome, output=output))

    def resume(self, journey_id: str, step_id: str, output: dict[str, Any], moment: datetime) -> None:
        body = {"stepId": step_id, "input": output}
        self.at(moment, lambda: services.journey_resume(journey_id=journey_id, body=body))

    def decide(self, journey_id: str, approved: bool, message: str | None, moment: datetime, *,
               step_id: str = "approval") -> None:
        body = {"stepId": step_id, "input": {"approved": approved, "message": message}}
        self.at(moment, lambda: services.journey_approve(journey_id=journey_id, body=body))

    def timer_elapsed(self, journey_id: str, step_id: str, moment: datetime) -> None:
        journey = Journey.objects.get(pk=journey_id)
        self.at(moment, lambda: engine.complete_wait(journey, step_id, {WaitKind.TIMER}, "Done", {},
                                                     f"Step {step_id}'s delay has passed."))

    def cancel(self, journey_id: str, moment: datetime) -> None:
        self.at(moment, lambda: services.journey_cancel(journey_id=journey_id))

    def notes(self, journey_id: str, step_ids: list[str], start: datetime) -> None:
        """Zero to three case-handler notes, some of them edited later."""
        moment = start
        for _ in range(self.rng.choice([0, 0, 1, 1, 2, 3])):
            moment += timedelta(minutes=self.rng.randint(5, 600))
            if moment >= self.now:
                return
            body = {"content": self.rng.choice(NOTE_TEXTS), "stepId": self.rng.choice([None, *step_ids])}
            note = self.at(moment, partial(services.note_create, journey_id=journey_id, body=body,
                                           caller=self.caller))
            if self.rng.random() < 0.2:
                edited = {"content": note["content"] + " (Updated after a second call.)"}
                self.at(min(moment + HOUR, self.now), partial(
                    services.note_update, journey_id=journey_id, note_id=note["id"], body=edited))

    def later(self, moment: datetime, low: timedelta, high: timedelta) -> datetime:
        """A moment after ``moment`` (but before now)."""
        step_time = moment + timedelta(seconds=self.rng.uniform(low.total_seconds(), high.total_seconds()))
        return min(step_time, self.now - MINUTE)


_FNR_WEIGHTS = ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))


def _fnr_control(digits: str, weights: tuple[int, ...]) -> int | None:
    remainder = 11 - sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True)) % 11
    return 0 if remainder == 11 else None if remainder == 10 else remainder


def _fodselsnummer(loader: Loader, birth: datetime) -> str:
    """A fødselsnummer that passes both mod-11 controls, as real ones do (so the portal's detectors know it):
    the individual number is 000–499 for births in the 1900s and 500–999 from 2000, and one whose control would
    be 10 is never issued, so another is drawn."""
    low, high = (0, 499) if birth.year < 2000 else (500, 999)
    while True:
        base = birth.strftime("%d%m%y") + f"{loader.rng.randint(low, high):03d}"
        first = _fnr_control(base, _FNR_WEIGHTS[0])
        second = None if first is None else _fnr_control(base + str(first), _FNR_WEIGHTS[1])
        if second is not None:
            return f"{base}{first}{second}"


def _identity(loader: Loader) -> dict[str, Any]:
    name = loader.person()
    birth = datetime(loader.rng.randint(1950, 2004), loader.rng.randint(1, 12), loader.rng.randint(1, 28))
    national_id = _fodselsnummer(loader, birth)
    return {"name": name, "birthDate": birth.date().isoformat(), "nationalId": national_id, "country": "NO"}


ONBOARDING_PLAN = (["waiting-login"] * 12 + ["waiting-details"] * 10 + ["waiting-approval"] * 16 + ["approved"] * 36
                   + ["rejected"] * 8 + ["aborted"] * 6 + ["cancelled"] * 6 + ["idle"] * 4)


def _onboarding_starts(loader: Loader) -> list[tuple[datetime, int, str]]:
    """When each planned onboarding journey started, oldest first: waiting ones lately, ended ones over a month."""
    starts = []
    for index, outcome in enumerate(ONBOARDING_PLAN):
        if outcome == "idle":
            started = loader.ago(MINUTE * 2, MINUTE * 30)
        elif outcome.startswith("waiting"):
            started = loader.ago(HOUR * 2, DAY * 12)
        else:
            started = loader.ago(DAY, DAY * 30)
        starts.append((started, index, outcome))
    return sorted(starts)


def load_onboarding(loader: Loader, workflow_id: str, v2_at: datetime) -> None:
    """Onboarding journeys in the order they started; version 2 (with the welcome letter) is saved at ``v2_at``
    and published an hour later, so older journeys ran version 1 and newer ones version 2."""
    v2_published = False
    for started, index, outcome in _onboarding_starts(loader):
        if not v2_published and started >= v2_at + HOUR:
            loader.new_version(workflow_id, onboarding(with_welcome_letter=True), v2_at)
            loader.publish(workflow_id, 2, v2_at + HOUR)
            v2_published = True
        journey_input = {"customerNumber": f"C-{100200 + index}", "product": loader.rng.choice(
            ["Everyday account", "Savings account", "Credit card", "Mortgage pre-approval"])}
        if outcome == "idle":
            loader.idle(workflow_id, journey_input, started)
            continue
        journey_id = loader.start(workflow_id, journey_input, started)
        loader.notes(journey_id, ["login", "details", "approval"], started)
        _onboarding_progress(loader, journey_id, outcome, started)


def _onboarding_progress(loader: Loader, journey_id: str, outcome: str, started: datetime) -> None:
    """Takes a started onboarding journey as far as its planned ``outcome``: login, details, then the decision."""
    rng = loader.rng
    if outcome == "waiting-login":
        return
    if outcome == "cancelled":
        loader.cancel(journey_id, loader.later(started, DAY * 3, DAY * 10))
        return
    moment = loader.later(started, MINUTE, MINUTE * 20)
    if outcome == "aborted":
        loader.end_user(journey_id, "login", "Aborted", {"aborted": True}, moment)
        return
    identity = _identity(loader)
    loader.end_user(journey_id, "login", "Success", identity, moment)
    if outcome == "waiting-details":
        return
    first = identity["name"].split()[0].lower()
    details = {
        "email": f"{first}.{rng.randint(1, 99)}@example.com",
        "phone": f"+47 9{rng.randint(1000000, 9999999)}",
        "address": loader.address(),
        "occupation": rng.choice(["Nurse", "Engineer", "Teacher", "Student", "Carpenter", None]),
        "pep": rng.random() < 0.05,
    }
    moment = loader.later(moment, MINUTE * 2, MINUTE * 15)
    loader.end_user(journey_id, "details", "Done", details, moment)
    if outcome == "waiting-approval":
        return
    moment = loader.later(moment, HOUR, DAY * 2)
    if outcome == "approved":
        message = rng.choice([None, "Documents in order.", "Approved after PEP check."])
    else:
        message = rng.choice(["Sanctions list match.", "Incomplete documentation.", "Customer is under 18."])
    loader.decide(journey_id, outcome == "approved", message, moment)


SIGN_OFF_REASONS = ["Terms checked.", "Fee within the price list.", "Credit check passed.", None]
SIGN_OFF_REFUSALS = ["Fee below the floor price.", "Customer is on the credit watch list."]


def load_contracts(loader: Loader, workflow_id: str) -> None:
    """Contracts waiting for the customer, waiting for sign-off (for an hour up to five days, so some are past a
    day's SLA), signed, refused at sign-off, declined, cancelled and idle."""
    rng = loader.rng
    plan = (["waiting"] * 14 + ["signoff"] * 9 + ["signed"] * 30 + ["refused"] * 2 + ["declined"] * 8
            + ["cancelled"] * 5 + ["idle"] * 3)
    for outcome in plan:
        company = rng.choice(COMPANIES)
        contact = loader.person()
        journey_input = {"company": company, "contactName": contact,
                         "contactEmail": contact.lower().replace(" ", ".") + "@example.com",
                         "monthlyFee": rng.choice([490, 990, 1490, 2990, 4990])}
        if outcome == "idle":
            loader.idle(workflow_id, journey_input, loader.ago(MINUTE * 2, HOUR))
            continue
        if outcome == "waiting":
            started = loader.ago(HOUR, DAY * 10)
        elif outcome == "signoff":
            started = loader.ago(HOUR * 2, DAY * 5)
        else:
            started = loader.ago(DAY * 2, DAY * 30)
        journey_id = loader.start(workflow_id, journey_input, started)
        loader.notes(journey_id, ["review", "signoff"], started)
        if outcome == "waiting":
            continue
        if outcome == "cancelled":
            loader.cancel(journey_id, loader.later(started, DAY, DAY * 7))
            continue
        accepted = outcome != "declined"
        review = {"accepted": accepted, "signatory": contact,
                  "comments": None if accepted else rng.choice(["The fee is too high.", "We chose another vendor.",
                                                               "Legal needs changes to clause 7."])}
        reviewed = loader.later(started, MINUTE * 30, HOUR * 20 if outcome == "signoff" else DAY * 3)
        loader.end_user(journey_id, "review", "Done", review, reviewed)
        if outcome in {"signed", "refused"}:
            # The two approvers the portal's contracts policy asks for, as the portal words its message to Mint.
            signed = outcome == "signed"
            reason = rng.choice(SIGN_OFF_REASONS if signed else SIGN_OFF_REFUSALS)
            verdict = "Approved by approver, approver2" if signed else "Rejected by approver"
            loader.decide(journey_id, signed, f"{verdict}: {reason}" if reason else verdict,
                          loader.later(reviewed, HOUR, DAY * 2), step_id="signoff")


def load_address_changes(loader: Loader, workflow_id: str) -> None:
    rng = loader.rng
    plan = ["waiting"] * 16 + ["verified"] * 26 + ["unverified"] * 5 + ["cancelled"] * 3
    for index, outcome in enumerate(plan):
        name = loader.person()
        journey_input = {"customerNumber": f"C-{100500 + index}", "customerName": name,
                         "newAddress": loader.address(), "email": name.lower().replace(" ", ".") + "@example.com"}
        started = loader.ago(HOUR, DAY * 14) if outcome == "waiting" else loader.ago(DAY, DAY * 30)
        journey_id = loader.start(workflow_id, journey_input, started)
        loader.notes(journey_id, ["verify"], started)
        if outcome == "waiting":
            continue
        moment = loader.later(started, HOUR, DAY * 4)
        if outcome == "cancelled":
            loader.cancel(journey_id, moment)
            continue
        handler = rng.choice(["Hilde (customer service)", "Rune (customer service)", "Aisha (back office)"])
        loader.resume(journey_id, "verify", {"verified": outcome == "verified", "handledBy": handler}, moment)


def load_batches(loader: Loader, workflow_id: str) -> None:
    rng = loader.rng
    plan = ["cooling-off"] * 6 + ["running"] * 3 + ["finished"] * 18 + ["missing-list"] * 3
    for index, outcome in enumerate(plan):
        batch_id = f"B-{2400 + index}"
        customers = [{"name": loader.person(), "riskScore": rng.randint(5, 95)} for _ in range(rng.randint(3, 12))]
        journey_input = {"batchId": batch_id} if outcome == "missing-list" else {"batchId": batch_id,
                                                                                 "customers": customers}
        if outcome in {"cooling-off", "running"}:
            started = loader.ago(MINUTE * 10, HOUR * 20)
        else:
            started = loader.ago(DAY * 2, DAY * 30)
        journey_id = loader.start(workflow_id, journey_input, started)
        if outcome == "finished":
            loader.timer_elapsed(journey_id, "cool-off", started + DAY)
        elif outcome == "running":
            # The report step is being produced right now: the journey runs while its timer is still pending.
            Journey.objects.filter(pk=journey_id).update(status=JourneyStatus.RUNNING)


@transaction.atomic
def load(*, client_id: str, now: datetime, seed: int = SEED) -> bool:
    """Loads the demo data unless it is already there; returns whether it loaded anything."""
    if WorkflowVersion.objects.filter(name=ONBOARDING, version=1).exists():
        return False
    loader = Loader(rng=random.Random(seed), now=now, caller=Caller(client_id=client_id,
                                                                     roles=(FLOW_VIEWER, FLOW_EDITOR)))
    created = now - DAY * 45
    onboarding_id = loader.workflow(onboarding(with_welcome_letter=False), created)
    loader.attach(onboarding_id, "terms-and-conditions.pdf",
                  render_pdf("Terms and conditions for private customers\n\n1. Accounts ...",
                             title="Terms and conditions"), "application/pdf", created + HOUR)
    loader.publish(onboarding_id, 1, created + HOUR * 2)

    contract_id = loader.workflow(contract_signing(), created + DAY)
    loader.attach(contract_id, "general-terms-b2b.txt", b"General terms for business customers.\n",
                  "text/plain", created + DAY + HOUR)
    loader.publish(contract_id, 1, created + DAY + HOUR)

    address_id = loader.workflow(address_change(with_letter=False), created + DAY * 2)
    loader.publish(address_id, 1, created + DAY * 2 + HOUR)
    # Version 2 is a draft: journeys keep starting from the published version 1.
    loader.new_version(address_id, address_change(with_letter=True), now - DAY * 3)

    batch_id = loader.workflow(batch_check(), created + DAY * 3)
    loader.publish(batch_id, 1, created + DAY * 3 + HOUR)

    load_onboarding(loader, onboarding_id, v2_at=now - DAY * 18)
    load_contracts(loader, contract_id)
    load_address_changes(loader, address_id)
    load_batches(loader, batch_id)
    return True


def summary() -> dict[str, int]:
    """Journeys per status and the number of waiting steps, for the command's closing line."""
    counts = dict.fromkeys(JourneyStatus.values, 0)
    counts.update(Journey.objects.values_list("status").annotate(count=Count("id")).values_list("status", "count"))
    counts["waiting steps"] = JourneyWait.objects.count()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox demo", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    from sandbox.server import prepare_database

    prepare_database()
    people_ensure_demo()
    loaded = load(client_id=settings.SANDBOX_CLIENT_ID, now=datetime.now(UTC))
    if not loaded:
        print("Demo data is already loaded; nothing changed.")
        return 0
    counts = ", ".join(f"{count} {status}" for status, count in summary().items())
    print(f"Loaded the demo workflows and journeys: {counts}.")
    return 0
