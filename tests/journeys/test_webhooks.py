"""The Signicat Events receiver: signature, age, repeated ids, and a real delivery from the sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.urls import reverse

from journeys.models import Journey, WebhookEvent
from journeys.webhooks import webhook_process
from tests.celery_worker import WEBHOOK_SECRET, wait_for
from tests.sandbox.helpers import Api, chain, step

SECRET = "webhook-tests-secret"


def envelope(event_name: str = "mint-api:journey_status_changed", **data: str) -> bytes:
    body = {"id": str(uuid.uuid4()), "timestamp": "2026-01-01T00:00:00Z", "sender": "mint-api",
            "eventName": event_name, "eventData": data or {"journeyId": "j-unknown"}, "accountId": "a",
            "organizationId": "o", "expiresAt": "2026-01-02T00:00:00Z", "tags": []}
    return json.dumps(body).encode()


def signature(body: bytes, *, secret: str = SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    return f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def deliver(client, body: bytes, header: str | None):
    headers = {"Signicat-Signature": header} if header is not None else {}
    return client.post(reverse("mint-webhook"), body, content_type="application/json", headers=headers)


@pytest.fixture
def secret(settings) -> str:
    settings.MINT_WEBHOOK_SECRET = SECRET
    return SECRET


@pytest.mark.django_db
def test_a_signed_event_is_accepted_without_a_csrf_token(client, secret):
    client.handler.enforce_csrf_checks = True
    body = envelope(journeyId="j-1")

    response = deliver(client, body, signature(body))

    assert response.status_code == 202
    assert response.json() == {"result": "accepted", "id": json.loads(body)["id"]}


@pytest.mark.django_db
def test_a_bad_signature_is_refused(client, secret):
    body = envelope()

    response = deliver(client, body, signature(body, secret="not-the-secret"))

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_body_changed_after_signing_is_refused(client, secret):
    body = envelope(journeyId="j-1")

    response = deliver(client, body.replace(b"j-1", b"j-2"), signature(body))

    assert response.status_code == 401


@pytest.mark.django_db
def test_a_stale_timestamp_is_refused_even_when_correctly_signed(client, secret):
    body = envelope()

    response = deliver(client, body, signature(body, at=int(time.time()) - 301))

    assert response.status_code == 400
    assert response.json() == {"error": "stale signature timestamp"}
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_missing_or_malformed_signature_header_is_refused(client, secret):
    body = envelope()

    assert deliver(client, body, None).status_code == 400
    assert deliver(client, body, "v1=abc").status_code == 400


@pytest.mark.django_db
def test_a_repeated_event_id_is_acknowledged_and_ignored(client, secret):
    body = envelope(journeyId="j-1")

    first = deliver(client, body, signature(body))
    second = deliver(client, body, signature(body))

    assert first.status_code == 202
    assert second.status_code == 200 and second.json()["result"] == "duplicate"


@pytest.mark.django_db
def test_acknowledging_an_event_writes_nothing_to_the_database(client, secret, django_assert_num_queries):
    body = envelope(journeyId="j-quick")

    with django_assert_num_queries(0):
        response = deliver(client, body, signature(body))

    assert response.status_code == 202


@pytest.mark.django_db
def test_the_task_records_the_event_once_and_refreshes_the_journey_it_names(mint_settings, sandbox):
    api = Api(sandbox=sandbox, token=sandbox.token())
    workflow = api.create_workflow(chain(step("hold", "suspend"), step("done", "finish")))
    journey_id = api.start(workflow["id"])["journeyId"]
    sandbox.reset_counters()
    event = {"event_id": str(uuid.uuid4()), "event_name": "mint-api:journey_status_changed", "target_id": journey_id}

    assert webhook_process(**event) == "refreshed"
    assert webhook_process(**event) == "duplicate"

    assert Journey.objects.get(pk=journey_id).status == "active"
    assert WebhookEvent.objects.filter(pk=event["event_id"]).count() == 1
    assert sandbox.count("getJourney") == 1


@pytest.mark.django_db
def test_without_a_configured_secret_every_delivery_is_refused(client, settings):
    settings.MINT_WEBHOOK_SECRET = None
    body = envelope()

    assert deliver(client, body, signature(body)).status_code == 401


@pytest.mark.django_db
def test_an_event_naming_nothing_the_portal_mirrors_is_acknowledged(client, secret):
    body = envelope("mint-api:something_new", other="x")

    response = deliver(client, body, signature(body))

    assert response.status_code == 200 and response.json()["result"] == "ignored"


@pytest.mark.django_db(transaction=True)
def test_a_status_change_in_the_sandbox_reaches_the_mirror_through_the_webhook(
    live_server, celery_worker, sandbox
):
    sandbox.control("POST", "webhooks", json={"url": f"{live_server.url}/webhooks/mint", "secret": WEBHOOK_SECRET})
    api = Api(sandbox=sandbox, token=sandbox.token())
    workflow = api.create_workflow(chain(step("hold", "suspend"), step("done", "finish")))

    journey_id = api.start(workflow["id"])["journeyId"]
    wait_for(lambda: Journey.objects.filter(pk=journey_id, status="active").exists(), timeout=30,
             message="the started journey to be mirrored")
    api.post(f"journeys/{journey_id}/resume", json={"stepId": "hold", "input": {}})

    wait_for(lambda: Journey.objects.filter(pk=journey_id, status="finished").exists(), timeout=30,
             message="the finished journey to be mirrored")
    assert WebhookEvent.objects.count() >= 2
