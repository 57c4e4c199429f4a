"""The operations page: its figures are the rows the portal holds, and only administrators may read it."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from journeys.models import WebhookEvent
from journeys.services.sync import JOURNEYS
from journeys.tasks import webhook_events_prune_task
from launches.models import Launch, LaunchStatus
from mintportal.mint import errors, get_client
from mintportal.mint.breaker import JOURNEY_READS, OPEN, WRITES, Ticket
from workflows.models import SyncState

pytestmark = pytest.mark.django_db
URL = "/operations/"


def _launch(status: str, *, age: timedelta, retry_in: timedelta | None = None) -> Launch:
    now = timezone.now()
    return Launch.objects.create(
        key=f"ops-{uuid.uuid4().hex}", workflow_id="wf-onboarding", journey_url_ttl=60, status=status,
        created_at=now - age, retry_at=None if retry_in is None else now + retry_in,
    )


def _figure(body: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', body, re.DOTALL)
    assert found, f"#{element_id} is not on the page"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


@pytest.fixture
def breakers():
    breakers = get_client().breakers
    breakers.reset()
    yield breakers
    breakers.reset()


def test_its_figures_match_the_rows_the_portal_holds(admin: User, breakers, settings) -> None:
    for _ in range(3):
        _launch(LaunchStatus.PENDING, age=timedelta(minutes=1))
    _launch(LaunchStatus.PENDING, age=timedelta(minutes=2), retry_in=-timedelta(seconds=5))
    _launch(LaunchStatus.PENDING, age=timedelta(minutes=3), retry_in=timedelta(minutes=5))
    oldest = _launch(LaunchStatus.STARTING, age=timedelta(hours=2))
    for _ in range(2):
        _launch(LaunchStatus.NEEDS_REVIEW, age=timedelta(days=1))
    _launch(LaunchStatus.STARTED, age=timedelta(days=3))
    now = timezone.now()
    SyncState.objects.create(name=JOURNEYS, last_started_at=now - timedelta(minutes=7, seconds=10),
                             last_finished_at=now - timedelta(minutes=7), last_error="MintServerError")
    for number in range(4):
        WebhookEvent.objects.create(id=f"event-{number}", event_name="mint-api:journey_status_changed",
                                    received_at=now - timedelta(minutes=10))
    WebhookEvent.objects.create(id="event-old", event_name="mint-api:journey_status_changed",
                                received_at=now - timedelta(hours=3))
    AuditEvent.objects.create(at=now, actor_username="operator", action="journey.launch",
                              outcome=AuditEvent.Outcome.UNKNOWN, workflow_id="wf-onboarding",
                              summary="Launch outcome unknown", trace_id="trace-ops-unknown")
    AuditEvent.objects.create(at=now, actor_username="operator", action="journey.resume",
                              outcome=AuditEvent.Outcome.FAILED, summary="Resume failed",
                              trace_id="trace-ops-failed")
    AuditEvent.objects.create(at=now, actor_username="operator", action="journey.launch",
                              summary="Launched fine", trace_id="trace-ops-ok")
    for _ in range(settings.MINT_BREAKER_FAILURES):
        breakers.failed(Ticket(group=WRITES), errors.MintServerError("Mint answered 503", status=503))

    client = Client()
    client.force_login(admin)
    response = client.get(URL)
    body = response.content.decode()

    assert response.status_code == 200
    assert _figure(body, "ops-launch-pending") == "5"
    assert _figure(body, "ops-launch-starting") == "1"
    assert _figure(body, "ops-launch-depth") == "6"
    assert _figure(body, "ops-launch-retries") == "1"
    assert _figure(body, "ops-launch-review") == "2"
    assert "2 h" in _figure(body, "ops-launch-oldest")
    assert oldest.created_at.isoformat()[:16] in body
    assert _figure(body, "ops-sync-lag") == "7 min"
    assert "MintServerError" in body
    assert _figure(body, "ops-webhooks-recent") == "4"
    assert _figure(body, f"ops-breaker-{WRITES}") == OPEN
    assert _figure(body, f"ops-breaker-{JOURNEY_READS}") == "closed"
    assert "trace-ops-unknown" in body and "trace-ops-failed" in body
    assert "trace-ops-ok" not in body


def test_an_htmx_refresh_answers_the_figures_alone_and_the_page_links_to_itself(admin: User, breakers) -> None:
    client = Client()
    client.force_login(admin)
    page = client.get(URL).content.decode()
    region = client.get(URL, headers={"HX-Request": "true"})

    assert 'hx-trigger="every 10s"' in page
    assert f'href="{URL}"' in page
    assert region.status_code == 200
    assert region.content.decode().lstrip().startswith('<div id="operations-figures"')
    assert "<nav" not in region.content.decode()


def test_the_navigation_offers_it_to_administrators_only(admin: User, operator: User, breakers) -> None:
    for user, shown in ((admin, True), (operator, False)):
        client = Client()
        client.force_login(user)
        dashboard = client.get(reverse("accounts:dashboard")).content.decode()
        assert (f'href="{URL}"' in dashboard) is shown


@pytest.mark.parametrize("persona", ["operator", "approver", "case_handler", "outsider"])
def test_it_refuses_a_user_who_may_not_manage_access(request: pytest.FixtureRequest, persona: str) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    response = client.get(URL)

    assert response.status_code == 403
    assert "managing teams and scopes" in response.content.decode()


def test_it_sends_an_anonymous_visitor_to_sign_in(db: None) -> None:
    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_superuser_without_any_team_may_read_it(breakers) -> None:
    root = User.objects.create_superuser("root-ops", password="x" * 12)
    client = Client()
    client.force_login(root)

    assert client.get(URL).status_code == 200


def test_it_counts_the_tasks_waiting_in_the_broker(admin: User, breakers) -> None:
    client = Client()
    client.force_login(admin)
    before = int(_figure(client.get(URL).content.decode(), "ops-queued-tasks"))
    # A harmless task: whichever worker takes it later only prunes week-old webhook ids.
    for _ in range(2):
        webhook_events_prune_task.delay()

    after = int(_figure(client.get(URL).content.decode(), "ops-queued-tasks"))

    assert after == before + 2
