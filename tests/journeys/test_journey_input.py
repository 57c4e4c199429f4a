"""A journey's input reaches the mirror (``data.input``), so the list's input filters (``customerNumber = …``) find
it: recorded by the portal when it launches the journey (Mint's detail has no input), and read from the sandbox's
journey detail (an extension) for journeys started elsewhere; a detail without input never wipes a recorded one."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from journeys.models import Journey
from journeys.services.mirror import journey_input_record, journey_mirror_refresh
from launches.models import Launch, LaunchStatus
from launches.services import (
    bulk_launch_confirm,
    bulk_launch_run_chunk,
    bulk_launch_upload,
    launch_create,
    launch_start,
)
from mintportal.mint import models as mint
from tests.journeys.conftest import make_journey
from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step

pytestmark = pytest.mark.django_db

LIST = reverse("journeys:list")


def row_ids(html: str) -> list[str]:
    return re.findall(r'class="name-cell"><a href="/journeys/([^"/]+)"', html)


@pytest.fixture
def input_workflow(api: Api, mint_settings) -> str:
    definition = chain(step("details", "form", fields=[{"name": "phone", "label": "Phone", "type": "text"}]),
                       step("done", "finish"))
    workflow = api.create_workflow(definition, inputParameters=[{"name": "customerNumber"}])
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    return str(workflow["id"])


def test_a_journey_launched_through_the_portal_is_found_by_its_input(
    root_client: Client, superuser, input_workflow: str
) -> None:
    launch = launch_create(workflow_id=input_workflow, input={"customerNumber": "C-777001"}, journey_url_ttl=3600,
                           key="input-launch", actor=superuser)
    launch = launch_start(launch_id=launch.id)
    assert launch.status == LaunchStatus.STARTED
    assert Journey.objects.get(pk=launch.journey_id).data["input"] == {"customerNumber": "C-777001"}

    found = root_client.get(LIST, {"data": "customerNumber = C-777001"}).content.decode()
    assert row_ids(found) == [launch.journey_id]
    assert row_ids(root_client.get(LIST, {"data": "customerNumber = C-777002"}).content.decode()) == []


def test_the_sandbox_journey_detail_carries_the_input_and_the_mirror_keeps_it(
    api: Api, input_workflow: str, mint_settings
) -> None:
    started = api.start(input_workflow, {"customerNumber": "C-100508"})
    wire = api.journey(started["journeyId"])
    assert wire["input"] == {"customerNumber": "C-100508"}
    without = api.journey(api.start(input_workflow)["journeyId"])
    assert without["input"] == {}

    row = journey_mirror_refresh(journey=mint.JourneyDetail.model_validate(wire))
    assert Journey.objects.get(pk=row.id).data["input"] == {"customerNumber": "C-100508"}


def _detail(journey_id: str, **extra: object) -> mint.JourneyDetail:
    return mint.JourneyDetail.model_validate({"id": journey_id, "workflowId": "wf-onboarding", "version": 1,
                                              "status": "active", "stepData": {"risk": {"score": 7}}, **extra})


def test_a_detail_without_input_keeps_the_recorded_input_and_one_with_input_replaces_it() -> None:
    make_journey("j1", data={})
    assert journey_input_record(journey_id="j1", input={"customerNumber": "C-1"})
    journey_mirror_refresh(journey=_detail("j1"))  # as real Mint sends it: no input at all
    assert Journey.objects.get(pk="j1").data == {"input": {"customerNumber": "C-1"}, "steps": {"risk": {"score": 7}}}
    journey_mirror_refresh(journey=_detail("j1", input={}))
    assert Journey.objects.get(pk="j1").data["input"] == {"customerNumber": "C-1"}

    journey_mirror_refresh(journey=_detail("j1", input={"customerNumber": "C-2"}))
    assert Journey.objects.get(pk="j1").data["input"] == {"customerNumber": "C-2"}


def test_recording_the_input_of_a_journey_not_mirrored_yet_writes_nothing() -> None:
    assert not journey_input_record(journey_id="missing", input={"customerNumber": "C-1"})
    assert not Journey.objects.filter(pk="missing").exists()


def test_a_bulk_launch_records_each_rows_input(root_client: Client, superuser, input_workflow: str,
                                               sandbox) -> None:
    file = io.BytesIO(b"customerNumber\nC-880001\nC-880002\n")
    bulk = bulk_launch_upload(workflow_id=input_workflow, parameters=["customerNumber"], file=file,
                              filename="people.csv", journey_url_ttl=600, actor=superuser)
    bulk_launch_confirm(bulk_id=bulk.id, actor=superuser)
    assert bulk_launch_run_chunk(bulk_id=bulk.id, first_row=2, last_row=3, final_attempt=True) == 2

    launched = dict(Launch.objects.filter(bulk=bulk).values_list("input__customerNumber", "journey_id"))
    for customer, journey_id in launched.items():
        assert Journey.objects.get(pk=journey_id).data["input"] == {"customerNumber": customer}
        found = root_client.get(LIST, {"data": f"customerNumber = {customer}"}).content.decode()
        assert row_ids(found) == [journey_id]
    # One start and one detail read per row: the sync that follows finds these details fresh.
    assert sandbox.count("startJourney") == 2 and sandbox.count("getJourney") == 2
