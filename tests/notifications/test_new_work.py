"""Mails about new work, through a real SMTP server process: to exactly the people who may act, once, never to those
who turned them off, never about what waited before they listened; a mail server that is down loses nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from accounts.models import Action, Scope
from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Journey, JourneyStatus
from notifications.models import Mode, NotificationPreference, SentMail, Status
from notifications.services import notifications_send
from tests.clock import Clock
from tests.notifications.parts import listen, told, waiting
from tests.personas import WF_INSIDE, WF_OUTSIDE
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db

WORKFLOWS = ["wf-a", "wf-b", "wf-c"]
ACTS = {APPROVAL_STEP: Action.APPROVE, SUSPEND_STEP: Action.CONTINUE}

scopes = st.lists(st.fixed_dictionaries({
    "actions": st.sets(st.sampled_from([Action.VIEW, Action.APPROVE, Action.CONTINUE])),
    "all": st.booleans(),
    "workflows": st.sets(st.sampled_from(WORKFLOWS)),
}), min_size=0, max_size=2)
people = st.lists(st.fixed_dictionaries({
    "scopes": scopes,
    "mode": st.sampled_from(list(Mode)),
    "superuser": st.booleans(),
    "active": st.booleans(),
    "email": st.booleans(),
}), min_size=1, max_size=4)
work = st.lists(st.fixed_dictionaries({
    "workflow_id": st.sampled_from(WORKFLOWS),
    "status": st.sampled_from([JourneyStatus.ACTIVE, JourneyStatus.ACTIVE, JourneyStatus.FINISHED]),
    "gone": st.booleans(),
    # Waiting since before the person began listening: never mailed.
    "old": st.booleans(),
    "steps": st.lists(st.sampled_from([APPROVAL_STEP, SUSPEND_STEP, "form"]), min_size=1, max_size=2),
}), max_size=6)


def covered(person: dict, action: str, workflow_id: str) -> bool:
    return any(action in scope["actions"] and (scope["all"] or workflow_id in scope["workflows"])
               for scope in person["scopes"])


def expected(persons: list[dict], journeys: list[dict]) -> set[tuple[str, str, str]]:
    """Brute force, from the specs alone: (journey, step, address) for each new waiting step and each person who
    chose mails at once, can receive them, may view the journey and may act on the step."""
    found = set()
    for number, journey in enumerate(journeys):
        if journey["status"] != JourneyStatus.ACTIVE or journey["gone"] or journey["old"]:
            continue
        for position, step_type in enumerate(journey["steps"]):
            if step_type not in ACTS:
                continue
            for index, person in enumerate(persons):
                if person["mode"] != Mode.IMMEDIATE or not person["active"] or not person["email"]:
                    continue
                wf = journey["workflow_id"]
                if person["superuser"] or (covered(person, Action.VIEW, wf) and covered(person, ACTS[step_type], wf)):
                    found.add((f"j{number}", f"s{position}", f"p{index}@example.test"))
    return found


def store(persons: list[dict], journeys: list[dict]) -> None:
    Journey.objects.all().delete()
    SentMail.objects.all().delete()
    NotificationPreference.objects.all().delete()
    User.objects.filter(username__startswith="p").delete()
    Group.objects.filter(name__startswith="team-p").delete()
    now = timezone.now()
    for index, person in enumerate(persons):
        user = User.objects.create_user(username=f"p{index}", is_active=person["active"],
                                        is_superuser=person["superuser"])
        team = Group.objects.create(name=f"team-p{index}")
        user.groups.add(team)
        for number, scope in enumerate(person["scopes"]):
            Scope.objects.create(team=team, name=f"scope {number}", actions=sorted(scope["actions"]),
                                 all_workflows=scope["all"], workflow_ids=sorted(scope["workflows"]))
        listen(user, person["mode"], since=now - timedelta(minutes=30),
               email=f"p{index}@example.test" if person["email"] else "-")
        if not person["email"]:
            User.objects.filter(pk=user.pk).update(email="")
    for number, journey in enumerate(journeys):
        waiting(f"j{number}", journey["workflow_id"], *[(f"s{p}", t) for p, t in enumerate(journey["steps"])],
                since=now - timedelta(minutes=45 if journey["old"] else 10), status=journey["status"])
        if journey["gone"]:
            Journey.objects.filter(pk=f"j{number}").update(gone_at=now)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(persons=people, journeys=work)
def test_new_work_is_mailed_to_exactly_the_people_who_may_act_on_it(
    persons: list[dict], journeys: list[dict], smtp: SmtpServer
) -> None:
    smtp.clear()
    store(persons, journeys)
    want = expected(persons, journeys)
    # Steers the search towards examples with many recipients, not only empty ones.
    target(float(len(want)))
    sent = notifications_send()
    received = smtp.messages()
    assert told(received) == want
    # One mail per step and person: each to one address.
    assert sent == len(received) == len(told(received))


def test_running_twice_sends_no_second_mail(smtp: SmtpServer, approver: User, approver2: User) -> None:
    listen(approver, Mode.IMMEDIATE)
    listen(approver2, Mode.IMMEDIATE)
    waiting("j1", WF_INSIDE, ("check", APPROVAL_STEP))
    assert notifications_send() == 2
    assert notifications_send() == 0
    assert sorted(r for m in smtp.messages() for r in m.rcpt_tos) == ["approver2@example.test",
                                                                     "approver@example.test"]


def test_a_person_who_turned_mails_off_gets_none(smtp: SmtpServer, approver: User, approver2: User) -> None:
    listen(approver, Mode.OFF)
    listen(approver2, Mode.IMMEDIATE)
    waiting("j1", WF_INSIDE, ("check", APPROVAL_STEP))
    notifications_send()
    assert [m.rcpt_tos for m in smtp.messages()] == [("approver2@example.test",)]


def test_work_waiting_before_the_portal_first_looked_at_someone_is_never_mailed(
    smtp: SmtpServer, approver: User, clock: Clock, settings
) -> None:
    settings.NOTIFICATIONS_DEFAULT_MODE = Mode.IMMEDIATE
    approver.email = "approver@example.test"
    approver.save()
    # The demo's backlog: waiting before the first run.
    waiting("old", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(days=2))
    assert notifications_send() == 0
    assert NotificationPreference.objects.get(user=approver).watch_from == clock.now
    clock.advance(60)
    waiting("new", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now)
    assert notifications_send() == 1
    assert [m.subject for m in smtp.messages()] == ["New work: Case new (Workflow wf-onboarding)"]


def test_a_mail_names_the_journey_workflow_wait_and_link_and_nothing_out_of_scope(
    smtp: SmtpServer, approver: User, clock: Clock
) -> None:
    listen(approver, Mode.IMMEDIATE, since=clock.now - timedelta(hours=3))
    waiting("j-42", WF_INSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(hours=2, minutes=5),
            name="Onboarding of ACME")
    waiting("j-out", WF_OUTSIDE, ("check", APPROVAL_STEP), since=clock.now - timedelta(minutes=5))
    notifications_send()
    (received,) = smtp.messages()
    assert received.rcpt_tos == ("approver@example.test",)
    assert received.subject == "New work: Onboarding of ACME (Workflow wf-onboarding)"
    assert received.message["Auto-Submitted"] == "auto-generated"
    body = received.body
    assert "Journey:  Onboarding of ACME" in body
    assert "Workflow: Workflow wf-onboarding" in body
    assert "Waiting:  2 h 5 min" in body
    assert "Open it:  https://portal.example.test/journeys/j-42" in body
    assert "https://portal.example.test/notifications/" in body
    assert "j-out" not in body


def test_with_the_mail_server_down_nothing_is_marked_sent_and_a_later_run_sends_it(
    smtp: SmtpServer, approver: User, clock: Clock
) -> None:
    listen(approver, Mode.IMMEDIATE)
    waiting("j1", WF_INSIDE, ("check", APPROVAL_STEP))
    smtp.stop()
    assert notifications_send() == 0
    assert not SentMail.objects.filter(status=Status.SENT).exists()
    assert SentMail.objects.get().status == Status.FAILED
    smtp.start()
    # Not before its retry falls due...
    assert notifications_send() == 0
    clock.advance(61)
    assert notifications_send() == 1
    assert SentMail.objects.get().status == Status.SENT
    assert len(smtp.messages()) == 1
    assert notifications_send() == 0


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_mail_once(smtp: SmtpServer, approver: User, approver2: User) -> None:
    listen(approver, Mode.IMMEDIATE)
    listen(approver2, Mode.IMMEDIATE)
    for number in range(5):
        waiting(f"j{number}", WF_INSIDE, ("check", APPROVAL_STEP))
    start = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        start.wait()
        try:
            counts.append(notifications_send())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 10
    assert len(smtp.messages()) == 10
    assert len(told(smtp.messages())) == 10


def test_a_step_id_longer_than_the_logs_key_is_mailed_once(smtp: SmtpServer, approver: User) -> None:
    # Mint bounds no step id; the key of the event stays within its column.
    listen(approver, Mode.IMMEDIATE)
    waiting("j-long", WF_INSIDE, ("approve-" + "x" * 400, APPROVAL_STEP))
    assert notifications_send() == 1
    assert notifications_send() == 0
    assert SentMail.objects.get().event.startswith("work:sha256:")
