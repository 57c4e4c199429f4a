"""Who sees a launch: its launcher, and whoever may view the journey it started; its journey URL, the launcher
alone. A bulk launch (whose results hold every row's journey URL) is its launcher's alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from launches.models import BulkLaunch, Launch, LaunchStatus
from tests.personas import WF_INSIDE, make_user

pytestmark = pytest.mark.django_db

SECRET_URL = "https://sandbox.invalid/journey/j-launch?token=bearer-secret"


def _launch(by: User, *, journey_id: str = "") -> Launch:
    now = timezone.now()
    started = bool(journey_id)
    return Launch.objects.create(
        key=uuid.uuid4().hex, workflow_id=WF_INSIDE, journey_url_ttl=600, created_by=by, created_at=now,
        status=LaunchStatus.STARTED if started else LaunchStatus.PENDING, journey_id=journey_id,
        journey_url=SECRET_URL if started else "",
        journey_url_expires_at=now + timedelta(minutes=10) if started else None,
    )


def _get(user: User, url: str) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body.decode()


def test_the_launcher_sees_the_journey_url_of_their_launch(operator: User) -> None:
    launch = _launch(operator, journey_id="j-launch")
    status, body = _get(operator, reverse("launches:detail", kwargs={"launch_id": launch.id}))
    assert status == 200
    assert SECRET_URL.replace("&", "&amp;") in body or SECRET_URL in body


@pytest.mark.parametrize("persona", ["case_handler", "approver", "admin", "another_operator"])
def test_someone_who_may_view_the_journey_sees_the_launch_but_never_its_journey_url(
    request: pytest.FixtureRequest, operator: User, persona: str
) -> None:
    visitor = make_user("operator2", "Operators") if persona == "another_operator" else request.getfixturevalue(persona)
    launch = _launch(operator, journey_id="j-launch")
    status, body = _get(visitor, reverse("launches:detail", kwargs={"launch_id": launch.id}))
    assert status == 200
    assert "bearer-secret" not in body
    assert "shown to its launcher only" in body
    # "Launch another" is offered only to those who may launch journeys of the workflow.
    assert ("Launch another" in body) == (persona in {"admin", "another_operator"})


def test_a_launch_that_started_no_journey_is_its_launchers_alone(operator: User, admin: User) -> None:
    launch = _launch(operator)
    assert _get(operator, reverse("launches:detail", kwargs={"launch_id": launch.id}))[0] == 200
    other_operator = make_user("operator2", "Operators")
    assert _get(other_operator, reverse("launches:detail", kwargs={"launch_id": launch.id}))[0] == 404
    assert _get(admin, reverse("launches:detail", kwargs={"launch_id": launch.id}))[0] == 404


def test_an_outsider_gets_404_for_a_launch_id(operator: User, outsider: User) -> None:
    launch = _launch(operator, journey_id="j-launch")
    assert _get(outsider, reverse("launches:detail", kwargs={"launch_id": launch.id}))[0] == 404


@pytest.mark.parametrize("route", ["launches:bulk", "launches:bulk-results"])
def test_another_launcher_gets_404_for_a_bulk_launch_and_its_results(operator: User, admin: User, route: str) -> None:
    bulk = BulkLaunch.objects.create(workflow_id=WF_INSIDE, journey_url_ttl=60, created_by=operator,
                                     created_at=timezone.now())
    url = reverse(route, kwargs={"bulk_id": bulk.id})
    assert _get(operator, url)[0] == 200
    for visitor in (make_user("operator2", "Operators"), admin):
        assert _get(visitor, url)[0] == 404
