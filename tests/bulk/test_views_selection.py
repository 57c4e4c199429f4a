"""The bulk form as a new user meets it: ticked rows posted from a list are kept and redirected to a GET (the
browser's Back never offers to resubmit), 10,000 ticked ids fit once the upload limit is 10,100, the form offers
only the actions the user may take on the selection's workflows (preselected when there is one) and shows each
action's fields in a group named after it, and the dry run redirects to the job's page."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from bulk.models import BulkJob
from bulk.selectors import MAX_JOURNEYS
from journeys.models import Journey
from tests.personas import WF_INSIDE

pytestmark = pytest.mark.django_db


def mirror_rows(count: int, *, status: str = "active") -> list[str]:
    now = timezone.now()
    rows = [Journey(id=f"sel-{index:06d}", workflow_id=WF_INSIDE, workflow_name="Onboarding", version=1,
                    status=status, name=f"Selected {index}", last_executed_at=now, created_at=now, seen_at=now)
            for index in range(count)]
    Journey.objects.bulk_create(rows, batch_size=2000)
    return [row.id for row in rows]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_ticked_rows_posted_from_a_list_are_redirected_to_a_get_of_the_kept_selection(case_handler):
    ids = mirror_rows(3)
    client = signed_in(case_handler)

    posted = client.post(reverse("bulk:new"), {"journey": ids, "action": "note"})

    assert posted.status_code == 302
    match = re.fullmatch(re.escape(reverse("bulk:new")) + r"\?selection=([0-9a-f]{32})&action=note", posted["Location"])
    assert match
    page = client.get(posted["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and "Act on 3 journeys" in body
    # The form carries the ids on to the dry run, with the chosen action ticked.
    assert all(f'name="journey" value="{journey_id}"' in body for journey_id in ids)
    assert re.search(r'<input type="radio" name="action" value="note"[^>]*checked', body)
    # Another person's session does not hold it: a stale or forged token is refused in words.
    stale = signed_in(case_handler).get(posted["Location"])
    assert stale.status_code == 400 and "no longer kept" in stale.content.decode()
    assert not BulkJob.objects.exists()


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10_100)
@pytest.mark.parametrize(("ticked", "status"), [(MAX_JOURNEYS, 302), (MAX_JOURNEYS + 1, 400)])
def test_ten_thousand_ticked_ids_fit_in_one_post_and_one_more_is_refused_in_words(case_handler, ticked, status):
    ids = mirror_rows(ticked)
    client = signed_in(case_handler)

    posted = client.post(reverse("bulk:new"), {"journey": ids})

    assert posted.status_code == status
    if status == 302:
        page = client.get(posted["Location"])
        assert page.status_code == 200 and "Act on 10,000 journeys" in page.content.decode()
    else:
        assert "at most 10,000 journeys" in posted.content.decode()
    assert not BulkJob.objects.exists()


def test_the_dry_run_redirects_to_the_jobs_page(case_handler):
    ids = mirror_rows(2)
    client = signed_in(case_handler)

    response = client.post(reverse("bulk:new"), {"journey": ids, "key": "k-redirect", "action": "note",
                                                 "content": "Checked by phone"})

    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("bulk:job", args=[job.id])


def test_an_approver_is_offered_only_decisions_and_assigning_and_sees_no_other_actions_fields(approver):
    ids = mirror_rows(2)

    body = signed_in(approver).get(reverse("bulk:new"), {"journey": ids}).content.decode()

    assert set(re.findall(r'name="action" value="(\w+)"', body)) == {"approve", "reject", "assign"}
    assert "Approve or reject: the reason" in body and "Assign: to whom" in body
    for absent in ("Link lifetime", "Note: its text", "Continue: the step"):
        assert absent not in body


def test_an_operator_whose_one_action_is_new_urls_gets_it_preselected_with_only_its_fields(operator):
    ids = mirror_rows(2)

    body = signed_in(operator).get(reverse("bulk:new"), {"journey": ids}).content.decode()

    assert re.findall(r'name="action" value="(\w+)"', body) == ["url"]
    assert re.search(r'<input type="radio" name="action" value="url"[^>]*checked', body)
    assert "New journey URLs: how long they work" in body
    for absent in ("Reason", "Manual step", "Assign to"):
        assert absent not in body


def test_actions_are_offered_by_the_selections_workflows_not_by_any_workflow(approver, case_handler):
    # The approver's scopes cover onboarding and contracts; a journey of a workflow outside both offers nothing.
    Journey.objects.create(id="sel-outside", workflow_id="wf-batch", version=1, status="active",
                           name="Outside", seen_at=timezone.now())
    ids = mirror_rows(1)

    body = signed_in(case_handler).get(reverse("bulk:new"), {"journey": ids}).content.decode()

    assert set(re.findall(r'name="action" value="(\w+)"', body)) == {"continue", "assign", "url", "note"}


def test_showing_the_steps_form_redirects_to_a_get_with_the_step_chosen(sandbox, suspend_workflow, start,
                                                                          case_handler):
    journey = start(suspend_workflow(tags=["onboarding"]), "M-1")
    client = signed_in(case_handler)

    response = client.post(reverse("bulk:new"), {"journey": journey.id, "key": "k-show", "action": "continue",
                                                 "step_id": "hold", "show_form": "1"})

    assert response.status_code == 302
    assert "action=continue" in response["Location"] and "step_id=hold" in response["Location"]
    body = client.get(response["Location"]).content.decode()
    assert "Answers (the same for every journey)" in body
    assert re.search(r'<option value="hold" selected>', body)
    assert re.search(r'<input type="radio" name="action" value="continue"[^>]*checked', body)
    assert not BulkJob.objects.exists()
