"""A job belongs to its creator: others get 404 (unless they manage access, who may read it but not confirm it).
Forged requests act on nothing the dry run did not offer; a double-submitted form makes one job."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent
from bulk.models import BulkItem, BulkJob, ItemStatus, JobStatus, Verdict
from tests.bulk.conftest import prepare, run_all

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_someone_elses_job_is_not_found_and_cannot_be_confirmed(
    sandbox, approval_workflow, start, approver, approver2, admin
):
    journey = start(approval_workflow(tags=["onboarding"]), "P-1")
    job = prepare(approver, "approve", [journey])
    other = signed_in(approver2)

    for url in (reverse("bulk:job", args=[job.id]), reverse("bulk:results", args=[job.id])):
        assert other.get(url).status_code == 404
    assert other.post(reverse("bulk:confirm", args=[job.id])).status_code == 404
    # Someone who manages access may read it, but never act as its creator.
    assert signed_in(admin).get(reverse("bulk:job", args=[job.id])).status_code == 200
    assert signed_in(admin).post(reverse("bulk:confirm", args=[job.id])).status_code == 403
    assert BulkJob.objects.get().status == JobStatus.DRAFT
    # The refusals are audited (the refused-write middleware); nothing was confirmed.
    assert set(AuditEvent.objects.filter(action="bulk.confirm").values_list("outcome", flat=True)) == {"refused"}


def test_a_journey_outside_the_scope_posted_into_the_dry_run_is_refused_and_never_acted_on(
    sandbox, approval_workflow, start, approver
):
    inside = start(approval_workflow(tags=["onboarding"]), "I-1")
    outside = start(approval_workflow(tags=["batch"]), "X-1")
    client = signed_in(approver)

    response = client.post(reverse("bulk:new"),
                           {"journey": [inside.id, outside.id], "key": "forged", "action": "approve"})
    job = BulkJob.objects.get()
    page = client.get(reverse("bulk:job", args=[job.id])).content.decode()
    # The confirm takes no journeys: whatever is posted with it, only the dry run's will-act items run.
    sandbox.reset_counters()
    client.post(reverse("bulk:confirm", args=[job.id]), {"journey": outside.id})
    run_all(job)

    assert response.status_code == 302
    assert outside.name not in page and "Not found, or outside your scope." in page
    items = {item.journey_id: item for item in BulkItem.objects.filter(job=job)}
    assert items[outside.id].verdict == Verdict.REFUSED and items[outside.id].status == ItemStatus.IDLE
    assert items[inside.id].status == ItemStatus.DONE
    assert sandbox.count("approveJourney") == 1
    assert not AuditEvent.objects.filter(journey_id=outside.id).exists()


def test_a_double_submitted_dry_run_and_a_double_clicked_confirm_make_one_job_that_acts_once(
    sandbox, approval_workflow, start, approver
):
    journey = start(approval_workflow(tags=["onboarding"]), "D-1")
    client = signed_in(approver)
    form = {"journey": journey.id, "key": "same-key", "action": "approve"}

    first = client.post(reverse("bulk:new"), form)
    second = client.post(reverse("bulk:new"), form)
    job = BulkJob.objects.get()
    client.post(reverse("bulk:confirm", args=[job.id]))
    client.post(reverse("bulk:confirm", args=[job.id]))
    sandbox.reset_counters()
    run_all(job)
    run_all(job)

    assert first["Location"] == second["Location"] == reverse("bulk:job", args=[job.id])
    assert AuditEvent.objects.filter(action="bulk.create").count() == 1
    assert AuditEvent.objects.filter(action="bulk.confirm").count() == 1
    assert sandbox.count("approveJourney") == 1


def test_bad_form_input_gets_a_message_beside_the_field(sandbox, approval_workflow, start, approver):
    journey = start(approval_workflow(tags=["onboarding"]), "B-1")
    client = signed_in(approver)

    no_reason = client.post(reverse("bulk:new"), {"journey": journey.id, "key": "k", "action": "reject"})
    not_offered = client.post(reverse("bulk:new"), {"journey": journey.id, "key": "k", "action": "url"})

    assert no_reason.status_code == 400 and "A reason is required to reject." in no_reason.content.decode()
    assert not_offered.status_code == 400 and "Select a valid choice" in not_offered.content.decode()
    assert not BulkJob.objects.exists()


def test_the_inbox_posts_its_selection_to_the_action_form(sandbox, approval_workflow, start, approver):
    journeys = [start(approval_workflow(tags=["onboarding"]), f"S-{n}") for n in range(2)]

    response = signed_in(approver).post(reverse("bulk:new"), {"journey": [j.id for j in journeys],
                                                               "action": "approve"}, follow=True)

    body = response.content.decode()
    assert response.status_code == 200 and "Act on 2 journeys" in body
    assert 'value="approve" checked' in body or 'checked' in body
    assert not BulkJob.objects.exists()
