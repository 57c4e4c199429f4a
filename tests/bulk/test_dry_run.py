"""The dry run lists, per journey, "will act" or "refused" with the reason, and the execution acts on exactly the
journeys it said it would, through the single-journey services (their audit events included)."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from approvals.services import approval_decide
from bulk.models import BulkItem, ItemStatus, JobStatus, Verdict
from journeys.models import Claim
from journeys.services.claims import claim_take
from tests.bulk.conftest import confirm_and_run, prepare
from tests.personas import make_user

pytestmark = pytest.mark.django_db


def reasons(job) -> dict[str, str]:
    return {item.journey_id: item.reason if item.verdict == Verdict.REFUSED else "will act"
            for item in BulkItem.objects.filter(job=job)}


def outcomes(job) -> dict[str, str]:
    return dict(BulkItem.objects.filter(job=job, verdict=Verdict.WILL_ACT).values_list("journey_id", "status"))


def test_an_approvers_dry_run_names_why_each_refused_journey_is_refused(
    sandbox, approval_workflow, suspend_workflow, start, approver, approver2, case_handler
):
    inside = approval_workflow(tags=["onboarding"])
    contracts = approval_workflow(tags=["contracts"])
    fine = start(inside, "F-1")
    own = start(inside, "O-1", launched_by=approver)
    held = start(inside, "H-1")
    claim_take(actor=approver2, journey_id=held.id)
    decided = start(inside, "D-1")
    approval_decide(user=approver2, journey_id=decided.id, step_id="check", approved=True)
    voted = start(contracts, "V-1")
    approval_decide(user=approver, journey_id=voted.id, step_id="check", approved=True)
    manual = start(suspend_workflow(tags=["onboarding"]), "M-1")
    outside = start(approval_workflow(tags=["batch"]), "X-1")

    # As the next request loads the approver (access is memoised per user object).
    approver = User.objects.get(pk=approver.pk)
    job = prepare(approver, "approve", [fine, own, held, decided, voted, manual, outside, "no-such-journey"],
                  reason="checked")

    said = reasons(job)
    assert said[fine.id] == "will act"
    assert said[own.id] == "Your own launch: another approver must approve it."
    assert said[held.id].startswith("Claimed by someone else: This case is held by approver2")
    # Approved by someone else, it moved on to its manual step.
    assert said[decided.id] == "Not waiting for an approval."
    assert said[voted.id].startswith("Already approved by you (1 of 2)")
    assert said[manual.id] == "Not waiting for an approval."
    assert said[outside.id] == said["no-such-journey"] == "Not found, or outside your scope."
    # Nothing of a journey outside the scope is kept, not even its name.
    assert BulkItem.objects.get(job=job, journey_id=outside.id).journey_name == ""

    sandbox.reset_counters()
    job = confirm_and_run(approver, job)

    assert job.status == JobStatus.FINISHED
    assert outcomes(job) == {fine.id: ItemStatus.DONE}
    assert sandbox.count("approveJourney") == 1
    assert AuditEvent.objects.filter(action="journey.approve", journey_id=fine.id, outcome="ok").count() == 1
    assert list(AuditEvent.objects.filter(action__startswith="bulk.").values_list("action", flat=True)
                .order_by("id")) == ["bulk.create", "bulk.confirm"]


def test_a_contract_needs_two_approvers_so_a_bulk_approve_records_a_vote_and_decides_nothing(
    sandbox, approval_workflow, start, approver
):
    journey = start(approval_workflow(tags=["contracts"]), "C-1")
    sandbox.reset_counters()

    job = confirm_and_run(approver, prepare(approver, "approve", [journey]))

    item = BulkItem.objects.get(job=job)
    assert item.status == ItemStatus.DONE and "1 of 2" in item.outcome
    assert sandbox.count("approveJourney") == 0


def test_a_bulk_reject_sends_the_reason_and_refuses_journeys_that_stopped_waiting_since_the_dry_run(
    sandbox, approval_workflow, start, approver, approver2, mint
):
    workflow = approval_workflow(tags=["onboarding"])
    first, second = start(workflow, "R-1"), start(workflow, "R-2")
    job = prepare(approver, "reject", [first, second], reason="Documents missing")
    assert set(reasons(job).values()) == {"will act"}
    # Someone decides the second one between the dry run and the confirmation.
    approval_decide(user=approver2, journey_id=second.id, step_id="check", approved=True)

    job = confirm_and_run(approver, job)

    assert outcomes(job) == {first.id: ItemStatus.DONE, second.id: ItemStatus.REFUSED}
    assert mint.get_journey(first.id).step_data["check"]["message"] == "Rejected by approver: Documents missing"
    assert "not waiting for this approval" in BulkItem.objects.get(job=job, journey_id=second.id).outcome


def test_new_journey_urls_come_back_in_the_results_csv_with_their_expiry(
    sandbox, form_workflow, approval_workflow, start, operator
):
    waiting = [start(form_workflow(tags=["onboarding"]), f"U-{n}") for n in range(3)]
    not_for_end_user = start(approval_workflow(tags=["onboarding"]), "U-X")
    job = prepare(operator, "url", [*waiting, not_for_end_user], time_to_live=3600)
    assert reasons(job)[not_for_end_user.id].startswith("No step of it waits on the end user")

    confirm_and_run(operator, job)
    client = Client()
    client.force_login(operator)
    response = client.get(reverse("bulk:results", args=[job.id]))

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_id = {row["journey_id"]: row for row in rows}
    for journey in waiting:
        row = by_id[journey.id]
        assert row["name"] == journey.name and row["status"] == "done"
        assert row["journey_url"].startswith("http") and row["expires_at"]
    assert by_id[not_for_end_user.id]["status"] == "not run" and not by_id[not_for_end_user.id]["journey_url"]
    assert sandbox.count("createJourneyUrl") == 3
    assert AuditEvent.objects.filter(action="journey.url_create", outcome="ok").count() == 3


def test_a_note_goes_to_every_journey_the_user_may_annotate(sandbox, suspend_workflow, start, case_handler, mint):
    inside = [start(suspend_workflow(tags=["onboarding"]), f"N-{n}") for n in range(2)]
    outside = start(suspend_workflow(tags=["batch"]), "N-X")

    job = prepare(case_handler, "note", [*inside, outside], content="Called the customer")
    job = confirm_and_run(case_handler, job)

    assert outcomes(job) == {journey.id: ItemStatus.DONE for journey in inside}
    for journey in inside:
        assert [note.content for note in mint.list_journey_notes(journey.id).data] == ["Called the customer"]
    assert not mint.list_journey_notes(outside.id).data


def test_a_team_lead_moves_a_colleagues_cases_to_someone_else(sandbox, suspend_workflow, start, admin, case_handler):
    colleague = make_user("colleague", "Case handlers")
    workflow = suspend_workflow(tags=["onboarding"])
    cases = [start(workflow, f"A-{n}") for n in range(3)]
    for journey in cases:
        claim_take(actor=colleague, journey_id=journey.id)
    unheld = start(workflow, "A-free")
    # A case handler who is no manager may not move a colleague's case, nor take it.
    refused = prepare(case_handler, "assign", [cases[0]], assignee_id=admin.pk, assignee="admin")
    assert reasons(refused)[cases[0].id].startswith("Only the case's holder or a manager")
    refused = prepare(case_handler, "assign", [cases[0]], assignee_id=case_handler.pk, assignee="handler")
    assert reasons(refused)[cases[0].id] == "Claimed by someone else: held by colleague."

    job = confirm_and_run(admin, prepare(admin, "assign", [*cases, unheld], assignee_id=case_handler.pk,
                                         assignee="handler"))

    assert outcomes(job) == {journey.id: ItemStatus.DONE for journey in [*cases, unheld]}
    assert set(Claim.objects.values_list("user__username", flat=True)) == {"handler"}


def test_one_set_of_answers_continues_every_journey_waiting_at_the_step(
    sandbox, suspend_workflow, approval_workflow, start, case_handler, mint
):
    workflow = suspend_workflow(tags=["onboarding"])
    waiting = [start(workflow, f"C-{n}") for n in range(2)]
    elsewhere = start(approval_workflow(tags=["onboarding"]), "C-X")

    job = confirm_and_run(case_handler, prepare(case_handler, "continue", [*waiting, elsewhere], step_id="hold",
                                                answers={}))

    assert reasons(job)[elsewhere.id] == "Not waiting at step “hold”."
    assert outcomes(job) == {journey.id: ItemStatus.DONE for journey in waiting}
    assert all(mint.get_journey(journey.id).status == "finished" for journey in waiting)
