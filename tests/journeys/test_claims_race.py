"""Two claims at once on PostgreSQL, from two threads with their own connections: one owner, one audit event, and
the loser told who won. A claim racing the mirror's cleanup of its step never outlives the step."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from accounts.models import AuditEvent
from journeys.models import SUSPEND_STEP, Claim, Journey, WaitingStep
from journeys.services.claims import AlreadyHeld, claim_take
from journeys.services.mirror import _waiting_steps_replace
from tests.personas import WF_INSIDE, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_journey(journey_id: str) -> Journey:
    """A mirror row whose detail is fresh (so no Mint call), waiting at suspend step ``hold``."""
    now = timezone.now()
    journey = Journey.objects.create(id=journey_id, workflow_id=WF_INSIDE, version=1, status="active", seen_at=now,
                                     last_executed_at=now - timedelta(minutes=1), detail_seen_at=now,
                                     waiting_since=now - timedelta(minutes=1), pending_steps=True)
    WaitingStep.objects.create(journey=journey, step_id="hold", step_type=SUSPEND_STEP)
    return journey


def at_once(*targets: Callable[[], object]) -> list[object]:
    """Runs the targets in threads released together; returns what each returned or raised."""
    barrier = threading.Barrier(len(targets))
    outcomes: list[object] = [None] * len(targets)

    def run(index: int, target: Callable[[], object]) -> None:
        barrier.wait(timeout=30)
        try:
            outcomes[index] = target()
        except Exception as exc:  # the loser's answer is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, target)) for index, target in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_two_handlers_claiming_at_once_give_one_owner_and_one_audit_event(
    postgresql, case_handler: User, attempt: int
) -> None:
    rival = make_user("handler2", "Case handlers")
    journey = waiting_journey(f"race-{attempt}")
    people = {case_handler.username: case_handler, rival.username: rival}

    outcomes = dict(zip(people, at_once(*(
        (lambda person=person: claim_take(actor=person, journey_id=journey.id, expected_holder=None))
        for person in people.values()
    )), strict=True))

    claim = Claim.objects.get(journey=journey)
    winner = claim.user.username
    loser = outcomes[next(name for name in people if name != winner)]
    assert isinstance(loser, AlreadyHeld), loser
    assert str(loser).startswith(f"Already held by {winner} since ")
    assert list(AuditEvent.objects.filter(action="journey.claim").values_list("actor_username", "outcome")) == [
        (winner, "ok")]


def test_claims_of_two_steps_of_one_journey_at_once_still_give_one_owner(postgresql, case_handler: User) -> None:
    """Each claim locks only its own step's row, so here the journey's unique key alone decides."""
    rival = make_user("handler2", "Case handlers")
    journey = waiting_journey("race-steps")
    WaitingStep.objects.create(journey=journey, step_id="hold-2", step_type=SUSPEND_STEP, position=1)

    outcomes = at_once(lambda: claim_take(actor=case_handler, journey_id=journey.id, step_id="hold"),
                       lambda: claim_take(actor=rival, journey_id=journey.id, step_id="hold-2"))

    claim = Claim.objects.get(journey=journey)
    assert sum(isinstance(outcome, AlreadyHeld) for outcome in outcomes) == 1, outcomes
    assert AuditEvent.objects.filter(action="journey.claim").values_list("actor_username", flat=True).get() == (
        claim.user.username)


def test_a_claim_racing_the_end_of_its_step_does_not_outlive_it(postgresql, case_handler: User) -> None:
    journey = waiting_journey("race-end")

    at_once(lambda: claim_take(actor=case_handler, journey_id=journey.id),
            lambda: _waiting_steps_replace(journey_id=journey.id, steps=[]))

    assert not WaitingStep.objects.filter(journey=journey).exists()
    assert not Claim.objects.exists()
