"""A launch's input is its journey's input: once the launch form is sent, the pages that show launches later (the
launch's own page, the launcher's history, a bulk launch's page) and a bulk launch's results CSV show its declared
personal values masked, and the audit trail keeps none of them."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus
from launches.services import _finish
from privacy import kinds
from privacy.models import PersonalDataDeclaration
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step

pytestmark = pytest.mark.django_db

# The input part of the demo's onboarding declaration.
DECLARED = [{"path": "input.customerName", "kind": kinds.NAME}, {"path": "input.email", "kind": kinds.EMAIL}]
# Letters no page of the portal holds by chance, so a value found on a page can only have leaked.
_WORDS = st.text(alphabet="ÆØÅæøåqxzwkjv", min_size=5, max_size=9)
_NAMES = st.builds(lambda first, last: f"{first.capitalize()} {last.capitalize()}", _WORDS, _WORDS)
_LOCAL = st.text(alphabet="qxzwkjv", min_size=6, max_size=10)


@dataclass(frozen=True)
class Customer:
    """One row's personal values; its repr shows none of them (test output must not either)."""

    name: str
    email: str

    def __repr__(self) -> str:
        return "Customer(…)"

    def labelled(self) -> list[tuple[str, str]]:
        return [("customerName", self.name), ("email", self.email),
                *(("a word of customerName", word) for word in self.name.split())]


CUSTOMERS = st.builds(Customer, name=_NAMES,
                      email=st.builds(lambda local, domain: f"{local}@{domain}.test", _LOCAL, _LOCAL))
KARI = Customer(name="Kari Nordmann", email="kari.nordmann@example.test")


def leaks(text: str, customers: list[Customer]) -> list[str]:
    """Which of the customers' values the text holds (by label, never the value)."""
    folded = text.casefold()
    return [label for customer in customers for label, value in customer.labelled() if value.casefold() in folded]


@pytest.fixture
def onboarding(api: Api, mint_settings) -> str:
    """A workflow taking ``customerName``, ``email`` and ``product``, its input's personal data declared."""
    workflow = api.create_workflow(
        chain(step("details", "form", fields=[{"name": "phone", "label": "Phone", "type": "text"}]),
              step("done", "finish")),
        inputParameters=[{"name": "customerName"}, {"name": "email"}, {"name": "product"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    PersonalDataDeclaration.objects.create(workflow_id=workflow["id"], version=workflow.get("version") or 1,
                                           fields=DECLARED, updated_at=timezone.now())
    return str(workflow["id"])


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, workflow_id: str, customers: list[Customer]) -> BulkLaunch:
    text = "customerName,email,product\n" + "".join(f"{c.name},{c.email},savings\n" for c in customers)
    file = SimpleUploadedFile(f"{uuid.uuid4().hex}.csv", text.encode(), content_type="text/csv")
    response = client.post(reverse("launches:bulk-upload", args=[workflow_id]),
                           {"file": file, "journey_url_ttl": "600"})
    assert response.status_code == 302
    return BulkLaunch.objects.get(pk=response["Location"].rstrip("/").split("/")[-1])


def started(bulk: BulkLaunch) -> None:
    """As if every row had been launched: started journeys, one of them refused by Mint quoting its input."""
    for launch in Launch.objects.filter(bulk=bulk).order_by("row_number"):
        Launch.objects.filter(pk=launch.pk).update(status=LaunchStatus.STARTED, journey_id=f"j-{launch.pk}")
    first = Launch.objects.filter(bulk=bulk).order_by("row_number").first()
    assert first is not None
    Launch.objects.filter(pk=first.pk).update(
        status=LaunchStatus.FAILED, journey_id="", error=f"Invalid customerName {first.input['customerName']}")
    BulkLaunch.objects.filter(pk=bulk.pk).update(status=BulkLaunchStatus.FINISHED)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.lists(CUSTOMERS, min_size=1, max_size=4))
def test_a_bulk_launchs_page_history_and_results_show_no_personal_value(onboarding, operator,
                                                                        customers: list[Customer]) -> None:
    client = signed_in(operator)
    bulk = upload(client, onboarding, customers)
    started(bulk)

    page = client.get(reverse("launches:bulk", args=[bulk.id])).content.decode()
    history = client.get(reverse("launches:index")).content.decode()
    response = client.get(reverse("launches:bulk-results", args=[bulk.id]))
    results = b"".join(response.streaming_content).decode("utf-8-sig")

    rows = list(csv.DictReader(io.StringIO(results)))
    assert len(rows) == len(customers) and {row["product"] for row in rows} == {"savings"}
    found = leaks(page, customers) + leaks(history, customers) + leaks(results, customers)
    assert found == []


def test_the_results_csv_shows_the_masks_in_the_input_columns(onboarding, operator) -> None:
    client = signed_in(operator)
    bulk = upload(client, onboarding, [KARI])
    started(bulk)

    response = client.get(reverse("launches:bulk-results", args=[bulk.id]))
    (row,) = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))

    assert (row["customerName"], row["email"], row["product"]) == ("K*** N***", "k***@e***.test", "savings")
    assert row["error"] == "Invalid customerName K*** N***"


def test_a_launchs_page_shows_mints_refusal_masked(onboarding, operator, approver) -> None:
    launch = Launch.objects.create(
        key=uuid.uuid4().hex, workflow_id=onboarding, input={"customerName": KARI.name, "email": KARI.email,
                                                             "product": "savings"},
        journey_url_ttl=60, status=LaunchStatus.FAILED, created_by=operator, created_at=timezone.now(),
        error=f"{KARI.email} is already a customer ({KARI.name})")

    page = signed_in(operator).get(reverse("launches:detail", args=[launch.id])).content.decode()

    assert leaks(page, [KARI]) == []
    assert "k***@e***.test is already a customer (K*** N***)" in page


def test_the_audit_trail_keeps_mints_refusal_masked(onboarding, operator) -> None:
    launch = Launch.objects.create(
        key=uuid.uuid4().hex, workflow_id=onboarding, input={"customerName": KARI.name, "email": KARI.email,
                                                             "product": "savings"},
        journey_url_ttl=60, status=LaunchStatus.STARTING, created_by=operator, created_at=timezone.now())

    _finish(launch, LaunchStatus.FAILED, error=f"{KARI.email} is already a customer ({KARI.name})")

    event = AuditEvent.objects.get(action="journey.launch.failed")
    assert leaks(f"{event.summary} {event.detail}", [KARI]) == []
    assert "k***@e***.test is already a customer (K*** N***)" in event.summary
