"""Every write through the portal's pages records exactly one audit event with the right fields, and a secret
value typed into the portal appears in no audit event, page, CSV or log line."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import AuditEvent
from journeys.services.sync import journey_refresh
from mintportal.mint import get_client, models
from tests.personas import approval_workflow_create, place_workflow
from workflows.models import SecretRecord

pytestmark = pytest.mark.django_db

CANARY = f"canary-{uuid.uuid4().hex}"
CANARY_UPDATE = f"canary-update-{uuid.uuid4().hex}"


class Recorder:
    """Performs one write through a page and checks that it added exactly one audit event (or ``events``)."""

    def __init__(self, client: Client, actor: User) -> None:
        self.client = client
        self.actor = actor
        self.bodies: list[str] = []

    def write(self, path: str, data: dict[str, object], *, action: str, workflow_id: str = "",
              journey_id: str = "", events: int = 1) -> AuditEvent:
        before = AuditEvent.objects.count()
        response = self.client.post(path, data)
        self.bodies.append(response.content.decode() + response.get("Location", ""))
        assert response.status_code in (200, 302), (path, response.status_code, response.content.decode()[:1500])
        if response.status_code == 302:
            self.bodies.append(self.client.get(response["Location"]).content.decode())
        assert AuditEvent.objects.count() == before + events, f"{path} recorded {AuditEvent.objects.count() - before}"
        event = AuditEvent.objects.order_by("-id").first()
        assert (event.action, event.outcome, event.actor, event.actor_username) == (
            action, "ok", self.actor, self.actor.username)
        if workflow_id:
            assert event.workflow_id == workflow_id
        if journey_id:
            assert event.journey_id == journey_id
        return event


def test_each_write_records_one_event_and_no_secret_value_appears_anywhere(mint_settings, admin, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client()
    client.force_login(admin)
    recorder = Recorder(client, admin)
    mint = get_client()

    steps = json.dumps([{"id": "hold", "type": "suspend"}, {"id": "end", "type": "finish"}])
    connections = json.dumps([{"sourceStepId": "hold", "targetStepId": "end"}])
    created = recorder.write("/workflows/new", {
        "name": "Audited workflow", "description": "", "tags": "onboarding", "input_parameters": "case",
        "steps": steps, "connections": connections, "variables": ""}, action="workflow.create")
    workflow_id = created.workflow_id
    assert workflow_id
    recorder.write(f"/workflows/{workflow_id}/edit", {
        "name": "Audited workflow v2", "description": "", "tags": "onboarding", "input_parameters": "case",
        "steps": steps, "connections": connections, "variables": ""}, action="workflow.update",
        workflow_id=workflow_id)
    recorder.write(f"/workflows/{workflow_id}/versions/2/publish", {"confirmed": "1"}, action="workflow.publish",
                   workflow_id=workflow_id)

    recorder.write("/workflows/secrets", {"name": "api-key", "description": "for tests", "value": CANARY},
                   action="secret.create")
    secret = SecretRecord.objects.get(name="api-key")
    recorder.write(f"/workflows/secrets/{secret.id}", {"name": "api-key", "description": "rotated",
                                                       "value": CANARY_UPDATE}, action="secret.update")

    recorder.write(f"/launches/new/{workflow_id}/", {"key": uuid.uuid4().hex, "p0": "C-1", "journey_url_ttl": "60"},
                   action="journey.launch", workflow_id=workflow_id)

    approval = approval_workflow_create(mint, tags=["onboarding"])
    journey_id = mint.start_journey(approval.id, input={"case": "W-1"}).journey_id
    journey_refresh(journey_id=journey_id)
    recorder.write(f"/approvals/{journey_id}/decide", {"step_id": "check", "occurrence": "1", "decision": "approve",
                                                       "reason": "ok"},
                   action="journey.approve", workflow_id=approval.id, journey_id=journey_id,
                   events=2)  # the counted vote (journey.approve.vote), then the decision
    recorder.write(f"/journeys/{journey_id}/resume", {"step_id": "after", "input": "checked=yes"},
                   action="journey.resume", workflow_id=approval.id, journey_id=journey_id)
    rejected_id = mint.start_journey(approval.id, input={"case": "W-2"}).journey_id
    journey_refresh(journey_id=rejected_id)
    recorder.write(f"/approvals/{rejected_id}/decide", {"step_id": "check", "occurrence": "1", "decision": "reject",
                                                        "reason": "No"},
                   action="journey.reject", workflow_id=approval.id, journey_id=rejected_id)
    # A journey URL is offered only while a step waits on the end user: a journey at its form.
    asking = mint.create_workflow(models.WorkflowInput(name="Asks the customer", steps=[
        models.WorkflowStep(id="ask", type="form", properties={"fields": [{"name": "phone", "label": "Phone"}]}),
        models.WorkflowStep(id="end", type="finish"),
    ], connections=[models.WorkflowStepConnection(source_step_id="ask", target_step_id="end")]))
    place_workflow(asking.id, tags=["onboarding"], name="Asks the customer")
    asking_id = mint.start_journey(asking.id, input={}).journey_id
    recorder.write(f"/journeys/{asking_id}/url", {"time_to_live": "600"}, action="journey.url_create",
                   workflow_id=asking.id, journey_id=asking_id)
    recorder.write(f"/journeys/{journey_id}/notes", {"content": "First note"}, action="note.create",
                   workflow_id=approval.id, journey_id=journey_id)
    note_id = mint.list_journey_notes(journey_id).data[0].id
    recorder.write(f"/journeys/{journey_id}/notes/{note_id}", {"content": "Edited note"}, action="note.update",
                   workflow_id=approval.id, journey_id=journey_id)

    pages = [client.get(path).content.decode() for path in ("/workflows/secrets", f"/workflows/secrets/{secret.id}",
                                                             "/audit/", f"/journeys/{journey_id}")]
    export = b"".join(client.get("/audit/export.csv").streaming_content).decode()
    stored = [json.dumps([event.summary, event.detail]) for event in AuditEvent.objects.all()]
    for canary in (CANARY, CANARY_UPDATE):
        assert not any(canary in text for text in stored), "a secret value reached an audit event"
        assert not any(canary in body for body in recorder.bodies + pages + [export]), "a secret value reached a page"
        assert canary not in caplog.text, "a secret value reached the log"
