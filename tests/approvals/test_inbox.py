"""The "My work" inbox: journeys waiting on the user, within their scope, live from the mirror."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from approvals.selectors import InboxFilters, inbox_count
from approvals.services import inbox_refresh
from journeys.models import Journey, WaitingStep
from journeys.services.mirror import journey_mirror_upsert
from mintportal.mint import MintClient

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def mirror_from_listing(mint: MintClient, workflow_id: str) -> None:
    """Mirrors a workflow's journeys as the sync does: listing fields only, no waiting steps known yet."""
    journey_mirror_upsert(summaries=mint.iter_journeys(workflow_id=workflow_id), seen_at=timezone.now())


def test_an_approver_sees_the_approvals_of_their_scope_and_nothing_outside_it(
    approval_workflow, suspend_workflow, start, approver
):
    inside = start(approval_workflow(tags=["onboarding"]), "inside-7731")
    outside = start(approval_workflow(tags=["batch"]), "outside-7732")
    manual = start(suspend_workflow(tags=["onboarding"]), "manual-7733")

    page = signed_in(approver).get("/approvals/").content.decode()

    assert "Case inside-7731" in page and "Approval" in page
    assert outside.id not in page and "outside-7732" not in page
    assert manual.id not in page, "an approver may not continue manual steps"
    assert inside.workflow_id in Journey.objects.values_list("workflow_id", flat=True)


def test_a_case_handler_sees_manual_steps_to_continue_but_no_approvals(
    approval_workflow, suspend_workflow, start, case_handler
):
    approval = start(approval_workflow(tags=["onboarding"]), "appr-1")
    manual = start(suspend_workflow(tags=["customer-service"]), "man-1")

    page = signed_in(case_handler).get("/approvals/").content.decode()

    assert "Manual man-1" in page and "Manual continuation" in page and "Continue" in page
    assert approval.id not in page
    assert manual.id in page


def test_journeys_known_only_from_the_listing_get_their_details_read_once(
    sandbox, mint, approval_workflow, approver
):
    workflow_id = approval_workflow(tags=["onboarding"])
    for case in range(3):
        mint.start_journey(workflow_id, input={"case": f"L-{case}"})
    mirror_from_listing(mint, workflow_id)
    assert not WaitingStep.objects.filter(journey__workflow_id=workflow_id).exists()
    sandbox.reset_counters()
    client = signed_in(approver)

    first = client.get("/approvals/").content.decode()
    assert sandbox.count("getJourney") == 3
    assert all(f"Case L-{case}" in first for case in range(3))

    client.get("/approvals/", headers={"HX-Request": "true"})
    assert sandbox.count("getJourney") == 3, "details already read are not read again"


def test_detail_reads_are_bounded_by_the_page_and_the_list_is_paged(sandbox, mint, approval_workflow, approver):
    workflow_id = approval_workflow(tags=["onboarding"])
    for case in range(27):
        mint.start_journey(workflow_id, input={"case": f"P-{case:02d}"})
    mirror_from_listing(mint, workflow_id)
    sandbox.reset_counters()
    client = signed_in(approver)

    first = client.get("/approvals/").content.decode()
    assert sandbox.count("getJourney") == 25
    assert "<strong>25</strong> journeys" in first
    client.get("/approvals/")
    assert sandbox.count("getJourney") == 27
    second = client.get("/approvals/", {"page": "2"}).content.decode()
    assert "<strong>27</strong> journeys" in second and "Page 2 of 2" in second
    assert second.count("<tr") == 3  # the header and two journeys


def test_a_journey_waiting_longer_than_the_scope_sla_is_marked_overdue(approval_workflow, start, approver):
    late = start(approval_workflow(tags=["onboarding"]), "late-1")
    start(approval_workflow(tags=["onboarding"]), "fresh-1")
    Journey.objects.filter(pk=late.id).update(waiting_since=timezone.now() - timedelta(hours=25))

    page = signed_in(approver).get("/approvals/").content.decode()

    assert page.count("Overdue") == 1
    assert page.index("late-1") < page.index("Overdue") < page.index("fresh-1"), "longest waiting first"


def test_filters_by_workflow_and_kind_and_htmx_gets_only_the_table(
    approval_workflow, suspend_workflow, start, admin
):
    one = approval_workflow(tags=["onboarding"])
    start(one, "f-one")
    start(approval_workflow(tags=["contracts"]), "f-two")
    start(suspend_workflow(tags=["onboarding"]), "f-three")
    client = signed_in(admin)

    by_workflow = client.get("/approvals/", {"workflow": one}).content.decode()
    assert "f-one" in by_workflow and "f-two" not in by_workflow and "f-three" not in by_workflow
    manual = client.get("/approvals/", {"kind": "continue"}, headers={"HX-Request": "true"}).content.decode()
    assert manual.lstrip().startswith('<section id="inbox-table"') and "<html" not in manual
    assert "f-three" in manual and "f-one" not in manual and "f-two" not in manual


def test_the_inbox_polls_itself_and_refreshes_after_a_decision(approver) -> None:
    page = signed_in(approver).get("/approvals/").content.decode()
    assert 'hx-trigger="every 15s, approval-decided from:body"' in page
    assert 'id="decision-panel"' in page


def test_reading_stale_details_stops_when_the_views_time_budget_is_spent(sandbox, mint, approval_workflow, approver):
    workflow_id = approval_workflow(tags=["onboarding"])
    for case in range(3):
        mint.start_journey(workflow_id, input={"case": f"B-{case}"})
    mirror_from_listing(mint, workflow_id)
    sandbox.reset_counters()

    assert inbox_refresh(user=approver, filters=InboxFilters(), budget_seconds=0) == 0
    assert sandbox.count("getJourney") == 0
    assert inbox_refresh(user=approver, filters=InboxFilters()) == 3
    assert sandbox.count("getJourney") == 3


def test_the_tabs_split_the_work_by_holder_and_by_what_the_user_already_approved(
    approval_workflow, start, approver, approver2
):
    from approvals.selectors import inbox_count, inbox_tab_counts
    from approvals.services import approval_decide
    from journeys.services.claims import claim_take

    # Contracts need two approvers, so a first approval leaves the journey waiting on someone else.
    workflow_id = approval_workflow(tags=["contracts"])
    mine, theirs, approved, _free = (start(workflow_id, f"T-{case}") for case in ("mine", "theirs", "done", "free"))
    claim_take(actor=approver, journey_id=mine.id)
    claim_take(actor=approver2, journey_id=theirs.id)
    approval_decide(user=approver, journey_id=approved.id, step_id="check", approved=True, reason="", occurrence=1)
    client = signed_in(approver)

    def cases(assignment: str) -> set[str]:
        page = client.get("/approvals/", {"assignment": assignment} if assignment else {}).content.decode()
        return {case for case in ("mine", "theirs", "done", "free") if f"Case T-{case}" in page}

    assert cases("") == {"mine", "theirs", "free"}
    assert cases("mine") == {"mine"}
    assert cases("unassigned") == {"free"}
    assert cases("others") == {"done"}
    assert inbox_tab_counts(user=approver) == {"": 3, "mine": 1, "unassigned": 1, "others": 1}
    assert inbox_count(user=approver) == 3
    # The second approver has approved nothing: every journey still needs them, the one they hold is theirs.
    assert inbox_tab_counts(user=approver2) == {"": 4, "mine": 1, "unassigned": 2, "others": 0}


def test_the_navigation_counts_the_work_waiting_on_the_user_on_every_page(approval_workflow, start, approver):
    workflow = approval_workflow(tags=["onboarding"])
    start(workflow, "nav-1")
    start(workflow, "nav-2")
    expected = inbox_count(user=approver)
    assert expected >= 2

    dashboard = signed_in(approver).get("/").content.decode()

    badge = re.search(r'My work<span id="nav-count-work"> <span class="nav-count">(\d+)'
                      r'<span class="visually-hidden"> waiting on you', dashboard)
    assert badge is not None and int(badge.group(1)) == expected


def test_the_navigation_count_follows_a_vote_at_once_although_it_is_cached(approval_workflow, start, approver):
    from approvals.services import approval_decide

    # Contracts need two approvers: a first vote leaves the journey waiting, but no longer on this approver.
    workflow = approval_workflow(tags=["contracts"])
    voted = start(workflow, "nav-vote")
    start(workflow, "nav-other")
    client = signed_in(approver)

    def badge() -> int:
        page = client.get("/").content.decode()
        found = re.search(r'My work<span id="nav-count-work"> <span class="nav-count">(\d+)<', page)
        assert found is not None
        return int(found.group(1))

    before = badge()
    assert badge() == before == inbox_count(user=approver)
    approval_decide(user=approver, journey_id=voted.id, step_id="check", approved=True, reason="", occurrence=1)
    assert badge() == before - 1 == inbox_count(user=approver)


def test_the_inbox_table_brings_the_navigation_count_along_when_it_redraws(approval_workflow, start, approver):
    from approvals.services import approval_decide

    workflow = approval_workflow(tags=["contracts"])
    voted = start(workflow, "oob-vote")
    start(workflow, "oob-other")
    client = signed_in(approver)

    def oob_count() -> int:
        region = client.get("/approvals/", HTTP_HX_REQUEST="true").content.decode()
        found = re.search(r'<span id="nav-count-work" hx-swap-oob="true"> <span class="nav-count">(\d+)<', region)
        assert found is not None
        return int(found.group(1))

    before = oob_count()
    approval_decide(user=approver, journey_id=voted.id, step_id="check", approved=True, reason="", occurrence=1)
    assert oob_count() == before - 1 == inbox_count(user=approver)
