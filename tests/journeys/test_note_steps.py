"""A note may name the step it is about (Mint's ``stepId``): chosen when it is written, shown beside it, and the
notes can be narrowed to one step."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.personas import place_workflow
from tests.sandbox.helpers import Api, chain, step, unique

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def journey_id(api: Api, mint_settings) -> str:
    workflow = api.create_workflow(chain(step("intake", "set-name", template="Notes"), step("review", "suspend"),
                                         step("done", "finish")), name=unique("Notes"))
    place_workflow(workflow["id"], tags=["onboarding"], name=workflow["name"])
    return api.start(workflow["id"], {})["journeyId"]


def test_a_note_about_a_step_shows_the_step_and_the_notes_filter_by_it(root_client: Client, api: Api,
                                                                       journey_id: str) -> None:
    page = root_client.get(reverse("journeys:detail", kwargs={"journey_id": journey_id})).content.decode()
    assert '<option value="review">review</option>' in page  # the steps to choose from
    add = reverse("journeys:note_add", kwargs={"journey_id": journey_id})
    assert root_client.post(add, {"content": "Checked the papers", "step_id": "review"}).status_code == 302
    assert root_client.post(add, {"content": "Called the customer", "step_id": ""}).status_code == 302
    notes = api.get(f"journeys/{journey_id}/notes").json()["data"]
    assert {note["content"]: note["stepId"] for note in notes} == {"Checked the papers": "review",
                                                                   "Called the customer": None}

    detail = reverse("journeys:detail", kwargs={"journey_id": journey_id})
    region = root_client.get(detail, {"region": "notes"}, **HTMX).content.decode()
    assert "step <code>review</code>" in region and "Called the customer" in region
    only = root_client.get(detail, {"region": "notes", "note_step": "review"}, **HTMX).content.decode()
    assert "Checked the papers" in only and "Called the customer" not in only
    none = root_client.get(detail, {"region": "notes", "note_step": "intake"}, **HTMX).content.decode()
    assert "No notes about step “intake”." in none

