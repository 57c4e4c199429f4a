"""Claiming and assigning cases: one holder per journey, who may move whose work, refusals named and audited,
and claims that end when their step does. Journeys run in the sandbox; the mirror is the portal's own."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from journeys.claims_selectors import claim_guard, claim_panel
from journeys.models import Claim, Journey
from journeys.services.claims import AlreadyHeld, claim_assign, claim_release, claim_take
from journeys.services.mirror import journey_mirror_upsert
from journeys.services.sync import journey_refresh
from mintportal.errors import Conflict, NotAllowed, NotVisible, Refused
from mintportal.mint import MintClient, get_client, models
from tests.mint_parts import link, step
from tests.personas import approval_workflow_create, make_user, place_workflow

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def mint(mint_settings) -> MintClient:
    return get_client()


@pytest.fixture
def manual(mint: MintClient) -> Callable[..., Journey]:
    """Starts a journey that waits at suspend step ``hold`` in a workflow with ``tags``; returns its mirror row."""
    workflows: dict[tuple[str, ...], str] = {}

    def start(case: str = "C-1", *, tags: tuple[str, ...] = ("onboarding",)) -> Journey:
        if tags not in workflows:
            workflow = mint.create_workflow(models.WorkflowInput(
                name=f"Manual {uuid.uuid4().hex[:8]}",
                steps=[step("name", "set-name", template="Manual {{ input.case }}"), step("hold", "suspend"),
                       step("end", "finish")],
                connections=[link("name", "hold"), link("hold", "end")],
                input_parameters=[models.WorkflowInputParameter(name="case")],
            ))
            place_workflow(workflow.id, tags=tags, name=workflow.name or "")
            workflows[tags] = workflow.id
        started = mint.start_journey(workflows[tags], input={"case": case})
        row = journey_refresh(journey_id=started.journey_id)
        assert row is not None and row.status == "active"
        return row

    return start


@pytest.fixture
def handler2(case_handler: User) -> User:
    return make_user("handler2", "Case handlers")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def events(journey: Journey, action: str = "") -> list[tuple[str, str, str]]:
    found = AuditEvent.objects.filter(journey_id=journey.id, action__startswith=action or "journey.")
    return [(event.action, event.outcome, event.actor_username) for event in found.order_by("id")]


def test_a_handler_takes_an_unheld_case_and_the_claim_is_audited(manual, case_handler):
    journey = manual()

    result = claim_take(actor=case_handler, journey_id=journey.id)

    claim = Claim.objects.get(journey=journey)
    assert result.changed and (claim.user, claim.step_id, claim.assigned_by) == (case_handler, "hold", case_handler)
    assert events(journey) == [("journey.claim", "ok", "handler")]
    # Taking one's own case again changes and records nothing.
    assert not claim_take(actor=case_handler, journey_id=journey.id).changed
    assert len(events(journey)) == 1


def test_a_second_handler_hears_who_holds_the_case_since_when_and_nothing_is_recorded(manual, case_handler, handler2):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)

    with pytest.raises(AlreadyHeld, match=r"^Already held by handler since \d{4}-\d\d-\d\d \d\d:\d\d"):
        claim_take(actor=handler2, journey_id=journey.id)

    assert Claim.objects.get(journey=journey).user == case_handler
    assert events(journey) == [("journey.claim", "ok", "handler")]


def test_a_claim_on_a_case_seen_unheld_loses_to_one_made_meanwhile(manual, case_handler, admin):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)

    # Even a manager, who may take cases over, does not take one from a holder they did not see.
    with pytest.raises(AlreadyHeld, match="Already held by handler"):
        claim_take(actor=admin, journey_id=journey.id, expected_holder=None)
    claim_take(actor=admin, journey_id=journey.id, expected_holder=case_handler.pk)
    assert Claim.objects.get(journey=journey).user == admin


def test_only_the_holder_or_a_manager_moves_a_case_to_someone_else(manual, case_handler, handler2, admin):
    journey = manual()
    with pytest.raises(NotAllowed, match="holder or a manager"):
        claim_assign(actor=case_handler, journey_id=journey.id, assignee_id=handler2.pk)

    claim_take(actor=case_handler, journey_id=journey.id)
    with pytest.raises(NotAllowed):
        claim_assign(actor=handler2, journey_id=journey.id, assignee_id=admin.pk)
    # The holder hands the case on; a manager moves it back.
    claim_assign(actor=case_handler, journey_id=journey.id, assignee_id=handler2.pk)
    assert Claim.objects.get(journey=journey).user == handler2
    claim_assign(actor=admin, journey_id=journey.id, assignee_id=case_handler.pk)
    claim = Claim.objects.get(journey=journey)
    assert (claim.user, claim.assigned_by) == (case_handler, admin)
    assert [event[:2] for event in events(journey)] == [
        ("journey.claim", "ok"), ("journey.assign", "ok"), ("journey.assign", "ok")]


def test_an_assignee_who_may_not_act_or_is_inactive_is_refused_by_name_and_audited(
    manual, admin, operator, approver, handler2
):
    journey = manual()
    with pytest.raises(Refused, match="assignee: operator may not continue manual steps of this workflow"):
        claim_assign(actor=admin, journey_id=journey.id, assignee_id=operator.pk)
    with pytest.raises(Refused, match="assignee: approver may not continue manual steps"):
        claim_assign(actor=admin, journey_id=journey.id, assignee_id=approver.pk)
    handler2.is_active = False
    handler2.save()
    with pytest.raises(Refused, match="assignee: handler2 is not an active user"):
        claim_assign(actor=admin, journey_id=journey.id, assignee_id=handler2.pk)

    assert not Claim.objects.exists()
    assert [event[:2] for event in events(journey)] == [("journey.assign", "refused")] * 3


def test_an_approval_is_claimed_by_approvers_and_not_by_case_handlers(mint, approver, case_handler):
    workflow = approval_workflow_create(mint, tags=["onboarding"])
    started = mint.start_journey(workflow.id, input={"case": "A-1"})
    journey = journey_refresh(journey_id=started.journey_id)
    assert journey is not None

    with pytest.raises(NotAllowed, match="approving"):
        claim_take(actor=case_handler, journey_id=journey.id)
    claim_take(actor=approver, journey_id=journey.id)
    assert Claim.objects.get(journey=journey).step_id == "check"


def test_a_journey_outside_the_scope_is_not_visible_to_claim_and_its_row_is_not_revealed(manual, case_handler):
    journey = manual(tags=("batch",))
    with pytest.raises(NotVisible):
        claim_take(actor=case_handler, journey_id=journey.id)
    with pytest.raises(NotVisible):
        claim_take(actor=case_handler, journey_id="no-such-journey")


def test_a_stale_mirror_is_read_again_from_mint_before_a_claim(sandbox, manual, case_handler):
    journey = manual()
    get_client().resume_journey(journey.id, step_id="hold", input={})
    # The mirror still says the step waits, but its detail predates the journey's last execution.
    Journey.objects.filter(pk=journey.id).update(detail_seen_at=None)
    sandbox.reset_counters()

    with pytest.raises(Conflict, match="finished"):
        claim_take(actor=case_handler, journey_id=journey.id)

    assert sandbox.count("getJourney") == 1
    assert events(journey) == [("journey.claim", "refused", "handler")]


def test_a_claim_ends_when_its_step_is_continued_and_the_mirror_reads_the_journey_again(manual, case_handler):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)

    get_client().resume_journey(journey.id, step_id="hold", input={})
    journey_refresh(journey_id=journey.id)

    assert not Claim.objects.exists()
    panel = claim_panel(user=case_handler, journey_id=journey.id)
    assert panel.holder is None and not panel.shown


def test_a_claim_ends_when_the_listing_sync_sees_the_journey_wait_on_nothing(mint, manual, case_handler):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)
    other = manual("C-2")
    claim_take(actor=case_handler, journey_id=other.id)

    mint.resume_journey(journey.id, step_id="hold", input={})
    journey_mirror_upsert(summaries=mint.iter_journeys(workflow_id=journey.workflow_id), seen_at=timezone.now())

    assert list(Claim.objects.values_list("journey_id", flat=True)) == [other.id]


def test_a_release_is_the_holders_or_a_managers_and_is_audited(manual, case_handler, handler2, admin):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)
    with pytest.raises(NotAllowed, match="holder or a manager"):
        claim_release(actor=handler2, journey_id=journey.id)

    claim_release(actor=case_handler, journey_id=journey.id)
    assert not Claim.objects.exists()
    with pytest.raises(AlreadyHeld, match="Nobody holds this case"):
        claim_release(actor=case_handler, journey_id=journey.id)
    claim_take(actor=handler2, journey_id=journey.id)
    claim_release(actor=admin, journey_id=journey.id)

    assert events(journey, "journey.release") == [("journey.release", "ok", "handler"),
                                                  ("journey.release", "ok", "admin")]
    event = AuditEvent.objects.filter(action="journey.release", actor_username="admin").get()
    assert event.detail == {"step_id": "hold", "holder": "handler2"}


def test_the_claim_guard_asks_before_acting_on_someone_elses_case(manual, case_handler, handler2):
    journey = manual()
    claim_guard(user=handler2, journey_id=journey.id, acknowledged=False)
    claim_take(actor=case_handler, journey_id=journey.id)

    with pytest.raises(Conflict, match=r"^This case is held by handler; confirm to act anyway$"):
        claim_guard(user=handler2, journey_id=journey.id, acknowledged=False)
    claim_guard(user=handler2, journey_id=journey.id, acknowledged=True)
    claim_guard(user=case_handler, journey_id=journey.id, acknowledged=False)


# --- the route and the region ---------------------------------------------------------------------------------


def test_the_journey_page_offers_assign_to_me_and_htmx_gets_the_region_back(manual, case_handler, handler2):
    journey = manual()
    page = signed_in(case_handler).get(f"/journeys/{journey.id}").content.decode()
    assert 'id="journey-claim"' in page and "Nobody holds this case." in page and "Assign to me" in page

    response = signed_in(case_handler).post(f"/journeys/{journey.id}/claim", {"do": "claim", "holder": ""}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "claim-changed"
    assert body.lstrip().startswith('<section id="journey-claim"') and "<html" not in body
    assert "Held by <strong>you</strong>" in body and "Release" in body and "The case is yours." in body
    # The other handler sees who holds it and may not take it over.
    other = signed_in(handler2).get(f"/journeys/{journey.id}").content.decode()
    assert "Held by <strong>handler</strong>" in other and "Take over" not in other and "Assign to me" not in other


def test_a_post_that_lost_the_race_answers_409_in_the_region_naming_the_holder(manual, case_handler, handler2):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)

    response = signed_in(handler2).post(f"/journeys/{journey.id}/claim", {"do": "claim", "holder": ""}, **HTMX)

    assert response.status_code == 409
    assert "Already held by handler since" in response.content.decode()


def test_without_htmx_a_claim_redirects_to_the_journey_and_a_refusal_answers_its_status(manual, case_handler):
    journey = manual()
    client = signed_in(case_handler)
    response = client.post(f"/journeys/{journey.id}/claim", {"do": "claim"})
    assert response.status_code == 302 and response["Location"] == f"/journeys/{journey.id}"
    assert "The case is yours." in client.get(response["Location"]).content.decode()

    response = client.post(f"/journeys/{journey.id}/claim", {"do": "assign"})
    assert response.status_code == 400 and "assignee" in response.content.decode()
    assert client.post(f"/journeys/{journey.id}/claim", {"do": "steal"}).status_code == 400


def test_forged_posts_are_refused_with_the_reason(manual, case_handler, admin, operator, outsider):
    waiting, outside, done = manual(), manual("C-9", tags=("batch",)), manual("C-3")
    get_client().resume_journey(done.id, step_id="hold", input={})
    journey_refresh(journey_id=done.id)

    assert signed_in(case_handler).post(f"/journeys/{outside.id}/claim", {"do": "claim"}).status_code == 404
    assert signed_in(outsider).post(f"/journeys/{waiting.id}/claim", {"do": "claim"}, **HTMX).status_code == 404
    assign = signed_in(admin).post(f"/journeys/{waiting.id}/claim", {"do": "assign", "assignee": operator.pk}, **HTMX)
    assert assign.status_code == 400
    assert "operator may not continue manual steps of this workflow" in assign.content.decode()
    finished = signed_in(case_handler).post(f"/journeys/{done.id}/claim", {"do": "claim"}, **HTMX)
    assert finished.status_code == 409 and "This journey is finished" in finished.content.decode()
    # An operator may see the journey but not act on it: the 403 page.
    refused = signed_in(operator).post(f"/journeys/{waiting.id}/claim", {"do": "claim"}, **HTMX)
    assert refused.status_code == 403 and "continuing manual steps" in refused.content.decode()
    assert not Claim.objects.exists()
    # Each refusal is in the audit trail: the service's own, and the access checks' (the refused-write middleware).
    refusals = AuditEvent.objects.filter(outcome="refused").values_list("journey_id", "actor_username")
    assert set(refusals) >= {(outside.id, "handler"), (waiting.id, "outsider"), (waiting.id, "admin"),
                             (done.id, "handler"), (waiting.id, "operator")}


def test_a_manager_sees_the_members_who_may_act_and_assigns_one(manual, admin, case_handler, handler2, approver):
    journey = manual()
    page = signed_in(admin).get(f"/journeys/{journey.id}").content.decode()
    options = page[page.index('name="assignee"'):page.index("</select>")]
    assert "handler" in options and "handler2" in options and "admin" in options and "approver" not in options

    response = signed_in(admin).post(f"/journeys/{journey.id}/claim",
                                     {"do": "assign", "assignee": handler2.pk, "holder": ""}, **HTMX)

    assert response.status_code == 200 and "Held by <strong>handler2</strong>" in response.content.decode()
    assert "assigned by admin" in response.content.decode()
    assert events(journey) == [("journey.assign", "ok", "admin")]


def test_continuing_a_case_someone_else_holds_asks_first_and_goes_through_once_confirmed(
    manual, case_handler, handler2, sandbox
):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)
    web = Client()
    web.force_login(handler2)
    url = reverse("journeys:resume", kwargs={"journey_id": journey.id})
    sandbox.reset_counters()

    warned = web.post(url, {"step_id": "hold"}, headers={"HX-Request": "true"})

    assert warned.status_code == 409
    page = warned.content.decode()
    assert "This case is held by handler; confirm to act anyway" in page
    assert 'name="acknowledge_claim"' in page, "the form offers the confirmation the refusal asks for"
    assert sandbox.count("resumeJourney") == 0

    confirmed = web.post(url, {"step_id": "hold", "acknowledge_claim": "on"}, follow=True)

    assert confirmed.status_code == 200
    assert sandbox.count("resumeJourney") == 1
    assert not Claim.objects.filter(journey_id=journey.id).exists(), "the claim ended with its step"


def test_a_refused_claim_form_is_audited_under_the_action_it_asked_for(manual, operator, case_handler):
    journey = manual()
    claim_take(actor=case_handler, journey_id=journey.id)
    client = signed_in(operator)
    for do in ("claim", "release", "assign", ""):
        assert client.post(f"/journeys/{journey.id}/claim", {"do": do, "assignee": operator.pk}).status_code == 403
    actions = set(AuditEvent.objects.filter(outcome="refused", journey_id=journey.id, actor_username="operator")
                  .values_list("action", flat=True))
    assert actions == {"journey.claim", "journey.release", "journey.assign"}
