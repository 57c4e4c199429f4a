"""What an open journey page costs Mint: its poll reads the mirror row, and asks Mint at most once a minute while
the journey does not change, whatever the number of tabs; a changed mirror row (a webhook, the sync) ends that."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from journeys.models import Journey
from journeys.services.mirror import journey_mirror_refresh
from mintportal.mint import get_client
from tests.clock import Clock
from tests.sandbox.helpers import Api, link, step
from tests.sandbox_process import SandboxProcess

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
POLL_EVERY = 10  # seconds, the page's hx-trigger


def poll_url(html: str) -> str:
    return re.search(r'hx-get="([^"]+/live\?fp=[^"]+)" hx-trigger="every 10s"', html).group(1).replace("&amp;", "&")


def mint_calls(sandbox: SandboxProcess) -> int:
    return sum(count for operation, count in sandbox.counters().items() if operation != "token")


@pytest.fixture
def waiting_journey(api: Api, mint_settings) -> str:
    workflow = api.create_workflow({"steps": [step("name", "set-name", template="Waits"), step("review", "suspend")],
                                    "connections": [link("name", "review")]})
    return api.start(workflow["id"])["journeyId"]


def test_polls_of_an_unchanged_journey_ask_mint_at_most_once_a_minute(
    root_client: Client, waiting_journey: str, sandbox: SandboxProcess, clock: Clock,
) -> None:
    page = root_client.get(reverse("journeys:detail", kwargs={"journey_id": waiting_journey})).content.decode()
    url = poll_url(page)
    sandbox.reset_counters()
    minutes = 5
    for _ in range(minutes * 60 // POLL_EVERY):
        clock.advance(POLL_EVERY)
        # Two tabs on the same journey share the minute.
        assert root_client.get(url, **HTMX).status_code == 204
        assert root_client.get(url, **HTMX).status_code == 204
    assert mint_calls(sandbox) <= minutes
    assert sandbox.counters().get("getJourney", 0) >= minutes - 1  # it does look, once a minute


def test_a_changed_mirror_row_makes_the_next_poll_read_mint_and_redraw(
    root_client: Client, waiting_journey: str, api: Api, sandbox: SandboxProcess, clock: Clock,
) -> None:
    page = root_client.get(reverse("journeys:detail", kwargs={"journey_id": waiting_journey})).content.decode()
    url = poll_url(page)
    clock.advance(POLL_EVERY)
    sandbox.reset_counters()
    assert root_client.get(url, **HTMX).status_code == 204
    assert mint_calls(sandbox) == 0
    # The journey moves on in Mint, and a webhook's refresh writes that to the mirror row.
    api.post(f"journeys/{waiting_journey}/resume", json={"stepId": "review", "input": {}})
    journey_mirror_refresh(journey=get_client().get_journey(waiting_journey))
    assert Journey.objects.get(pk=waiting_journey).status == "finished"
    sandbox.reset_counters()
    clock.advance(POLL_EVERY)
    response = root_client.get(url, **HTMX)
    html = response.content.decode().strip()
    assert response.status_code == 200 and html.startswith('<section id="journey-live"')
    assert sandbox.counters().get("getJourney") == 1
    # The journey has ended: the redrawn region polls no more, and the notes were never read.
    assert 'hx-trigger="every 10s"' not in html
    assert "listJourneyNotes" not in sandbox.counters()


def test_a_journey_that_changed_in_mint_alone_is_redrawn_within_the_minute(
    root_client: Client, waiting_journey: str, api: Api, sandbox: SandboxProcess, clock: Clock,
) -> None:
    # No webhook arrives: the once-a-minute look still finds the change.
    url = poll_url(root_client.get(reverse("journeys:detail", kwargs={"journey_id": waiting_journey})).content.decode())
    api.post(f"journeys/{waiting_journey}/resume", json={"stepId": "review", "input": {}})
    clock.advance(30)
    assert root_client.get(url, **HTMX).status_code == 204
    clock.advance(31)
    response = root_client.get(url, **HTMX)
    assert response.status_code == 200 and "Finished" in response.content.decode()
