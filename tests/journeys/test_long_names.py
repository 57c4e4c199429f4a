"""A journey's name is kept at the full length Mint gives it, by the sync and by a journey page's refresh alike."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from journeys.models import Journey
from journeys.services.sync import journey_refresh, journey_sync
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step

pytestmark = pytest.mark.django_db

# The sandbox's set-name step keeps at most 500 characters: just inside the longest name it can give.
LONGEST = 500


@pytest.fixture
def long_named(sandbox, mint_settings) -> str:
    api = Api(sandbox=sandbox, token=sandbox.token())
    workflow = api.create_workflow(chain(step("name", "set-name", template="{{ input.case }}{{ input.case }}"),
                                         step("hold", "suspend"), step("done", "finish")),
                                   inputParameters=[{"name": "case"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    return api.start(workflow["id"], {"case": "N" * (LONGEST // 2)})["journeyId"]


def test_the_sync_keeps_a_500_character_name_whole(long_named: str) -> None:
    journey_sync(full=True)
    assert Journey.objects.get(pk=long_named).name == "N" * LONGEST


def test_a_journey_page_refreshes_a_500_character_name_without_an_error(long_named: str, admin) -> None:
    journey_refresh(journey_id=long_named)
    client = Client()
    client.force_login(admin)
    response = client.get(reverse("journeys:detail", kwargs={"journey_id": long_named}))
    assert response.status_code == 200
    assert "N" * LONGEST in response.content.decode()
    assert Journey.objects.get(pk=long_named).name == "N" * LONGEST
