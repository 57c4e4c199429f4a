"""Forget a person: the find step lists exactly the journeys holding the value, the confirm step purges them once,
and the value itself is kept nowhere (not in the request, not in the audit trail, not in the page)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.urls import include, path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Action, AuditEvent, Scope
from bulk.models import BulkItem, BulkJob
from compliance.models import ErasureRequest, ErasureState
from compliance.services.erasure import erasure_confirm, erasure_find
from journeys.models import Journey, JourneyStatus, PersonalValue
from launches.models import Launch, LaunchStatus
from mintportal import urls as portal_urls
from privacy import kinds
from privacy.masking import PersonalField, hashes_in, pseudonymise

# Until mintportal/urls.py routes "compliance/", this module is its own URLconf: the portal's routes plus ours.
urlpatterns = [*portal_urls.urlpatterns]
if not any(getattr(entry, "namespace", None) == "compliance" for entry in portal_urls.urlpatterns):
    urlpatterns.append(path("compliance/", include("compliance.urls")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FIELDS = [PersonalField("input.nationalId", "national_id"), PersonalField("input.fullName", "name"),
          PersonalField("steps.contact.phone", "phone")]
# Values long and distinctive enough that finding one anywhere means it leaked.
IDS = ("14038512345", "01017099887", "31129955501")
NAMES = ("Kari Nordmann", "Ola Høiby", "Per Ås")
PAGE = "/compliance/erasure"
CONFIRM = "/compliance/erasure/confirm"
REPORT = "/compliance/erasure/report.csv"


def make_journey(journey_id: str, *, national_id: str = "", full_name: str = "", phone: str = "",
                 workflow_id: str = "wf-a", status: str = JourneyStatus.FINISHED, name: str = "") -> Journey:
    data: dict[str, Any] = {"input": {"case": f"case-{journey_id}"}, "steps": {}}
    if national_id:
        data["input"]["nationalId"] = national_id
    if full_name:
        data["input"]["fullName"] = full_name
    if phone:
        data["steps"]["contact"] = {"phone": phone}
    stored = pseudonymise(data, FIELDS)
    journey = Journey.objects.create(id=journey_id, workflow_id=workflow_id, workflow_name=f"Workflow {workflow_id}",
                                     version=1, status=status, name=name or f"Journey {journey_id}", data=stored,
                                     created_at=NOW - timedelta(days=3), finished_at=NOW - timedelta(days=1),
                                     seen_at=NOW)
    PersonalValue.objects.bulk_create(PersonalValue(journey=journey, hash=value) for value in hashes_in(stored))
    return journey


def assert_value_nowhere(*values: str) -> None:
    """Neither the value nor any normalised form of it is in an audit row or an erasure request."""
    forms = set(values) | {kinds.normalise(kind, value) for value in values for kind in kinds.KINDS}
    forms = {form for form in forms if len(form) >= 4}
    stored = [json.dumps([event.summary, event.detail], ensure_ascii=False) for event in AuditEvent.objects.all()]
    stored += [json.dumps([request.reference, request.value_hashes, request.report], ensure_ascii=False)
               for request in ErasureRequest.objects.all()]
    for text in stored:
        for form in forms:
            assert form not in text and form not in text.casefold()


@pytest.fixture
def dpo(db: None) -> User:
    return User.objects.create_superuser("dpo", "dpo@example.com", "mintdemo")


@pytest.fixture
def dpo_client(client: Client, dpo: User) -> Client:
    client.force_login(dpo)
    return client


# --- find: exactly the holders ------------------------------------------------------------------------------

holding = st.tuples(st.sampled_from(("", *IDS)), st.sampled_from(("", *NAMES)),
                    st.sampled_from(("", "+47 912 34 567")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journeys=st.lists(holding, max_size=10), wanted=st.sampled_from(IDS + NAMES), any_kind=st.booleans(),
       spelled=st.sampled_from(["as-is", "spaced", "upper"]))
def test_find_lists_exactly_the_journeys_holding_the_value(
    dpo: User, journeys: list[tuple[str, str, str]], wanted: str, any_kind: bool, spelled: str,
) -> None:
    with transaction.atomic():
        expected = set()
        for index, (national_id, full_name, phone) in enumerate(journeys):
            make_journey(f"j{index:02d}", national_id=national_id, full_name=full_name, phone=phone)
            if wanted in (national_id, full_name):
                expected.add(f"j{index:02d}")
        kind = kinds.NATIONAL_ID if wanted in IDS else kinds.NAME
        # Written another way than stored: the same value once normalised.
        typed = {"as-is": wanted, "upper": wanted.upper(),
                 "spaced": f"{wanted[:6]} {wanted[6:]}" if wanted in IDS else f"  {wanted}  "}[spelled]
        request = erasure_find(actor=dpo, value=typed, kinds=[] if any_kind else [kind], reference="DPO-1")
        assert set(request.journey_ids) == expected
        assert_value_nowhere(wanted, typed)
        transaction.set_rollback(True)


def test_find_leaves_out_workflows_where_the_user_may_not_erase(db: None) -> None:
    make_journey("j-a", national_id=IDS[0], workflow_id="wf-a")
    make_journey("j-b", national_id=IDS[0], workflow_id="wf-b")
    team = Group.objects.create(name="Privacy A")
    Scope.objects.create(team=team, name="A", workflow_ids=["wf-a"], actions=[Action.VIEW, Action.ERASE])
    user = User.objects.create_user("narrow")
    user.groups.add(team)
    assert erasure_find(actor=user, value=IDS[0], kinds=[], reference="DPO-2").journey_ids == ["j-a"]


# --- the pages: find, confirm, report -------------------------------------------------------------------------


def test_a_confirmed_request_purges_the_journeys_and_reports_what_remains_in_mint(
    dpo: User, dpo_client: Client,
) -> None:
    kari = make_journey("j-kari", national_id=IDS[0], full_name="Kari Nordmann", phone="+47 912 34 567",
                        name="Onboarding – Kari Nordmann")
    also = make_journey("j-kari-2", national_id=IDS[0], workflow_id="wf-b", status=JourneyStatus.ACTIVE)
    other = make_journey("j-ola", national_id=IDS[1], full_name="Ola Høiby")
    launch = Launch.objects.create(key="k1", workflow_id="wf-a", input={"nationalId": IDS[0]}, journey_url_ttl=60,
                                   status=LaunchStatus.STARTED, created_at=NOW, journey_id="j-kari")
    job = BulkJob.objects.create(created_by=dpo, key="job-1", action="note", created_at=NOW)
    bulk_item = BulkItem.objects.create(job=job, position=0, journey_id="j-kari", verdict="will_act",
                                        journey_name="Onboarding – Kari Nordmann")

    found = dpo_client.post(PAGE, {"value": "140385 12345", "kind": "", "reference": "TICKET-881"})
    assert found.status_code == 302
    request = ErasureRequest.objects.get()
    assert urlsplit(found["Location"]).query == f"request={request.pk}"
    listing = dpo_client.get(found["Location"]).content.decode()
    assert "j-kari" in listing and "j-kari-2" in listing and "j-ola" not in listing
    assert "Onboarding – K*** N***" in listing
    assert "Kari" not in listing and IDS[0] not in listing and "140385 12345" not in listing
    # Nothing is purged before the confirmation.
    assert Journey.objects.filter(data_removed_at__isnull=False).count() == 0

    done = dpo_client.post(CONFIRM, {"request": request.pk})
    assert done.status_code == 302
    for journey in (kari, also):
        journey.refresh_from_db()
        assert journey.data == {} and journey.data_removed_by == "erasure"
        assert not PersonalValue.objects.filter(journey=journey).exists()
    assert kari.name == "Onboarding – K*** N***" and kari.status == JourneyStatus.FINISHED
    assert also.status == JourneyStatus.ACTIVE
    other.refresh_from_db()
    assert other.data_removed_at is None and PersonalValue.objects.filter(journey=other).exists()
    launch.refresh_from_db()
    assert launch.input == {}
    bulk_item.refresh_from_db()
    assert bulk_item.journey_name == "Onboarding – K*** N***"

    report = dpo_client.get(done["Location"]).content.decode()
    assert "What remains in Mint" in report and "j-kari-2" in report and "wf-b" in report
    assert "input" in report and "Kari" not in report
    csv_text = b"".join(dpo_client.get(f"{REPORT}?request={request.pk}").streaming_content).decode()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith('"journey_id"') and len(lines) == 3
    assert {line.split(",")[0].strip('"') for line in lines[1:]} == {"j-kari", "j-kari-2"}
    assert "Mint still holds" in csv_text and "Kari" not in csv_text and IDS[0] not in csv_text

    event = AuditEvent.objects.get(action="person.erase")
    assert event.detail["reference"] == "TICKET-881" and event.detail["count"] == 2
    assert event.detail["journey_ids"] == ["j-kari", "j-kari-2"]
    assert_value_nowhere(IDS[0], "140385 12345", "Kari Nordmann")


def test_a_second_confirmation_changes_nothing(dpo: User, dpo_client: Client) -> None:
    make_journey("j-kari", national_id=IDS[0])
    request = erasure_find(actor=dpo, value=IDS[0], kinds=[kinds.NATIONAL_ID], reference="DPO-3")
    assert dpo_client.post(CONFIRM, {"request": request.pk}).status_code == 302
    rows, report = list(Journey.objects.values()), ErasureRequest.objects.get().report
    assert dpo_client.post(CONFIRM, {"request": request.pk}).status_code == 302
    erasure_confirm(actor=dpo, request=request)
    assert list(Journey.objects.values()) == rows and ErasureRequest.objects.get().report == report
    assert AuditEvent.objects.filter(action="person.erase").count() == 1
    assert ErasureRequest.objects.get().state == ErasureState.DONE


@pytest.mark.parametrize(("value", "reference", "field", "message"), [
    ("   ", "DPO-4", "value", "Enter the value to forget."),
    ("", "DPO-4", "value", "Enter the value to forget."),
    ("1" * 201, "DPO-4", "value", "At most 200 characters."),
    ("1403851\x072345", "DPO-4", "value", "control characters"),
    ("14038512345\u200b", "DPO-4", "value", "control characters"),
    ("14038512345", "", "reference", "This field is required."),
    ("14038512345", "R" * 101, "reference", "at most 100 characters"),
    ("14038512345", "case 14038512345", "reference", "must not contain the value"),
])
def test_bad_input_answers_400_beside_the_field_and_purges_nothing(
    dpo_client: Client, value: str, reference: str, field: str, message: str,
) -> None:
    make_journey("j-kari", national_id=IDS[0])
    response = dpo_client.post(PAGE, {"value": value, "kind": "", "reference": reference})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert not ErasureRequest.objects.exists()
    assert Journey.objects.get().data_removed_at is None and PersonalValue.objects.count() == 1
    # The value typed is not written back into the page.
    if value.strip():
        assert value not in page


@pytest.mark.parametrize(("value", "kind", "ok"), [
    ("14038512324", kinds.NATIONAL_ID, True),
    ("140385 12324", kinds.NATIONAL_ID, True),
    ("14038512325", kinds.NATIONAL_ID, False),  # one digit off: the checksum fails
    ("abc123", kinds.NATIONAL_ID, False),
    ("kari@example.com", kinds.EMAIL, True),
    ("not-an-email", kinds.EMAIL, False),
    ("NO9386011117947", kinds.BANK_ACCOUNT, True),
    ("NO9386011117948", kinds.BANK_ACCOUNT, False),
    ("not-an-email", "", True),  # "any kind" looks a value up exactly as typed
])
def test_a_value_of_a_chosen_kind_must_have_its_format(dpo_client: Client, value: str, kind: str, ok: bool) -> None:
    response = dpo_client.post(PAGE, {"value": value, "kind": kind, "reference": "DPO-5"})
    assert (response.status_code != 400) is ok
    assert ErasureRequest.objects.exists() is ok
    if not ok:
        assert list(response.context["form"].errors) == ["value"]
        assert "This is not a valid" in response.content.decode()


def test_the_confirm_step_and_the_report_refuse_what_is_not_a_request(dpo_client: Client) -> None:
    assert dpo_client.post(CONFIRM, {}).status_code == 400
    assert dpo_client.post(CONFIRM, {"request": "x"}).status_code == 400
    assert dpo_client.post(CONFIRM, {"request": 999}).status_code == 404
    assert dpo_client.get(REPORT).status_code == 400
    assert dpo_client.get(f"{PAGE}?request=abc").status_code == 400


def test_without_the_erase_right_every_erasure_page_answers_403(client: Client, operator: User, dpo: User) -> None:
    make_journey("j-kari", national_id=IDS[0])
    request = erasure_find(actor=dpo, value=IDS[0], kinds=[], reference="DPO-5")
    client.force_login(operator)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"value": IDS[0], "reference": "X"}).status_code == 403
    assert client.post(CONFIRM, {"request": request.pk}).status_code == 403
    assert client.get(f"{REPORT}?request={request.pk}").status_code == 403
    assert Journey.objects.get().data_removed_at is None
    assert ErasureRequest.objects.count() == 1


def test_someone_else_s_request_is_not_found(client: Client, dpo: User) -> None:
    make_journey("j-kari", national_id=IDS[0])
    request = erasure_find(actor=dpo, value=IDS[0], kinds=[], reference="DPO-6")
    team = Group.objects.create(name="Privacy")
    Scope.objects.create(team=team, name="All", all_workflows=True, actions=[Action.VIEW, Action.ERASE])
    colleague = User.objects.create_user("colleague")
    colleague.groups.add(team)
    client.force_login(colleague)
    assert client.get(f"{PAGE}?request={request.pk}").status_code == 404
    assert client.post(CONFIRM, {"request": request.pk}).status_code == 404
    assert Journey.objects.get().data_removed_at is None
