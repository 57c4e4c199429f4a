"""The bulk invariant, checked with Hypothesis over random selections, users, scopes and journey states against the
real sandbox: the dry run's "will act" set is exactly what the execution acts on (when nothing changes in between),
each journey is acted on at most once, and running the job's chunks again acts on nothing more.

One pool of journeys is shared by all examples, so the state moves on between them as a real inbox would (approved
journeys stop waiting, claims come and go); only what each example does is drawn.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bulk.models import BulkItem, ItemStatus, Verdict
from bulk.services import bulk_job_confirm, bulk_job_create
from journeys.models import Claim
from journeys.services.claims import claim_take
from mintportal.errors import ApplicationError
from tests.bulk.conftest import run_all, select

pytestmark = pytest.mark.django_db

USERS = ("approver", "approver2", "case_handler", "admin", "operator")
ACTIONS = ("approve", "reject", "note", "assign")
# The Mint call each action makes for a journey it acts on (assign is the portal's own; approve may only vote).
MINT_CALLS = {"reject": "approveJourney", "note": "createJourneyNote"}
POOL = 10

examples = st.tuples(
    st.sampled_from(USERS),
    st.sampled_from(ACTIONS),
    st.lists(st.integers(0, POOL - 1), min_size=1, max_size=POOL, unique=True),
    # Before the dry run: someone takes a case, or every claim ends.
    st.one_of(st.none(), st.tuples(st.sampled_from(USERS), st.integers(0, POOL - 1)), st.just("release")),
)


@pytest.fixture
def pool(approval_workflow, suspend_workflow, start, approver, approver2, case_handler, admin, operator):
    onboarding = approval_workflow(tags=["onboarding"])
    contracts = approval_workflow(tags=["contracts"])
    manual = suspend_workflow(tags=["onboarding"])
    outside = approval_workflow(tags=["batch"])
    journeys = [
        start(onboarding, "P-0"), start(onboarding, "P-1", launched_by=approver), start(onboarding, "P-2"),
        start(onboarding, "P-3", launched_by=approver2), start(contracts, "P-4"), start(contracts, "P-5"),
        start(manual, "P-6"), start(manual, "P-7"), start(outside, "P-8"), start(onboarding, "P-9"),
    ]
    assert len(journeys) == POOL
    return [journey.id for journey in journeys]


@hypothesis_settings(max_examples=30, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(example=examples)
def test_the_dry_runs_will_act_set_is_what_the_execution_acts_on_once(example, pool, sandbox, case_handler):
    username, action, picks, change = example
    # Each request loads its user afresh (access is memoised per user object).
    users = {name: User.objects.get(username={"case_handler": "handler"}.get(name, name)) for name in USERS}
    if change == "release":
        Claim.objects.all().delete()
    elif change is not None:
        holder, index = change
        # Not every person may hold every case: the refusal is the claims service's, not under test here.
        with contextlib.suppress(ApplicationError):
            claim_take(actor=users[holder], journey_id=pool[index])
    user = User.objects.get(pk=users[username].pk)
    params = {"reason": "drawn"} if action in ("approve", "reject") else {}
    if action == "note":
        params = {"content": "drawn"}
    if action == "assign":
        params = {"assignee_id": case_handler.pk, "assignee": "handler"}
    job = bulk_job_create(user=user, action=action, params=params, selection=select(user, [pool[i] for i in picks]),
                          key=uuid.uuid4().hex)
    will_act = set(BulkItem.objects.filter(job=job, verdict=Verdict.WILL_ACT).values_list("journey_id", flat=True))
    bulk_job_confirm(user=user, job_id=job.id)
    sandbox.reset_counters()

    run_all(job)
    counts = sandbox.counters()
    run_all(job)

    statuses = dict(BulkItem.objects.filter(job=job).values_list("journey_id", "status"))
    acted = {journey_id for journey_id, status in statuses.items() if status == ItemStatus.DONE}
    assert acted == will_act, dict(BulkItem.objects.filter(job=job).values_list("journey_id", "outcome"))
    assert all(status == ItemStatus.IDLE for journey_id, status in statuses.items() if journey_id not in will_act)
    if action in MINT_CALLS:
        assert counts.get(MINT_CALLS[action], 0) == len(acted)
    if action == "approve":
        # Where one approver suffices Mint hears each decision once; where two are needed, a vote only.
        told = BulkItem.objects.filter(job=job, status=ItemStatus.DONE, outcome__startswith="Approved.").count()
        assert counts.get("approveJourney", 0) == told
    assert sandbox.counters() == counts
