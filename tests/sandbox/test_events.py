"""Event delivery: the sandbox POSTs signed Signicat Events envelopes to webhook receivers and retries failures.

A real HTTP receiver runs on a free loopback port in this process; the sandbox is the session's real process.
Retries are driven by moving the sandbox clock, never by sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest
import requests

from tests.celery_worker import wait_for
from tests.sandbox_process import SandboxProcess

SECRET = "receiver-signing-secret"


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    at: float

    @property
    def envelope(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver that answers the given statuses in order (the last one repeats) and records requests."""

    statuses: list[int]
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver.lock:
                    receiver.received.append(Received(dict(self.headers), body, time.time()))
                    index = len(receiver.received) - 1
                status = receiver.statuses[min(index, len(receiver.statuses) - 1)]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)


@pytest.fixture
def make_receiver(sandbox: SandboxProcess) -> Iterator[Callable[..., Receiver]]:
    """Starts receivers answering the given statuses and registers each with the sandbox."""
    started: list[Receiver] = []

    def make(*statuses: int) -> Receiver:
        receiver = Receiver(list(statuses) or [200])
        receiver.start()
        started.append(receiver)
        response = sandbox.control("POST", "webhooks", json={"url": receiver.url, "secret": SECRET})
        assert response.status_code == 201
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


def deliveries_to(sandbox: SandboxProcess, url: str) -> list[dict[str, Any]]:
    return [delivery for delivery in sandbox.control("GET", "deliveries").json() if delivery["url"] == url]


def create_workflow(sandbox: SandboxProcess, name: str = "Events workflow") -> dict[str, Any]:
    response = sandbox.api("POST", "workflows", json={"name": name, "steps": [{"id": "done", "type": "finish"}]})
    assert response.status_code == 201, response.text
    return response.json()


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def verify_signature(received: Received, secret: str) -> int:
    """Checks the Signicat-Signature header the way a receiver does; returns its timestamp."""
    parts = dict(part.split("=", 1) for part in received.headers["Signicat-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.{received.body}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    return int(parts["t"])


def test_it_sends_a_signed_envelope_when_a_workflow_is_created(sandbox, make_receiver):
    receiver = make_receiver(200)

    workflow = create_workflow(sandbox, "Onboarding events")

    received = wait_for(receiver.requests, message="the create event")[0]
    envelope = received.envelope
    assert set(envelope) == {"id", "timestamp", "sender", "eventName", "eventData", "accountId", "organizationId",
                             "expiresAt", "tags"}
    assert envelope["sender"] == "mint-api"
    assert envelope["eventName"] == "mint-api:create_event"
    assert envelope["eventData"] == {"workflowId": workflow["id"], "version": 1, "name": "Onboarding events"}
    assert envelope["accountId"] and envelope["organizationId"]
    assert isinstance(envelope["tags"], list)
    assert parse_time(envelope["expiresAt"]) - parse_time(envelope["timestamp"]) == pytest.approx(24 * 3600)
    assert received.headers["Content-Type"] == "application/json"
    assert abs(verify_signature(received, SECRET) - time.time()) < 60


def test_it_reports_each_journey_status_change(sandbox, make_receiver):
    receiver = make_receiver(200)
    workflow = create_workflow(sandbox)

    started = sandbox.api("POST", f"workflows/{workflow['id']}/journeys", json={})
    assert started.status_code == 201, started.text
    journey_id = started.json()["journeyId"]

    def journey_changes() -> list[dict[str, Any]]:
        return [r.envelope["eventData"] for r in receiver.requests()
                if r.envelope["eventName"] == "mint-api:journey_status_changed"
                and r.envelope["eventData"]["journeyId"] == journey_id]

    changes = wait_for(lambda: [c for c in journey_changes() if c["status"] == "finished"] and journey_changes(),
                       message="the finished status event")
    assert all(change["workflowId"] == workflow["id"] for change in changes)
    assert changes[-1]["status"] == "finished"
    for earlier, later in pairwise(changes):
        assert later["previousStatus"] == earlier["status"]
    for received in receiver.requests():
        verify_signature(received, SECRET)


def test_it_retries_a_failing_receiver_with_doubling_delays_until_it_answers(sandbox, make_receiver):
    receiver = make_receiver(500, 503, 500, 204)
    create_workflow(sandbox)
    clock_offset = 0.0

    for attempt in (1, 2, 3):
        delivery = wait_for(
            lambda attempt=attempt: next(
                (d for d in deliveries_to(sandbox, receiver.url) if d["attempts"] == attempt), None),
            message=f"attempt {attempt}",
        )
        assert delivery["delivered"] is False
        assert delivery["lastStatus"] == [500, 503, 500][attempt - 1]
        attempted_at = receiver.requests()[attempt - 1].at + clock_offset
        assert parse_time(delivery["nextAttemptAt"]) - attempted_at == pytest.approx(2 ** (attempt - 1), abs=0.75)
        sandbox.advance_clock(2 ** (attempt - 1))
        clock_offset += 2 ** (attempt - 1)

    delivery = wait_for(lambda: next((d for d in deliveries_to(sandbox, receiver.url) if d["delivered"]), None),
                        message="the successful attempt")
    assert delivery["attempts"] == 4
    assert delivery["lastStatus"] == 204
    assert delivery["nextAttemptAt"] is None
    bodies = {received.body for received in receiver.requests()}
    assert len(receiver.requests()) == 4 and len(bodies) == 1


def test_it_gives_up_once_the_envelope_has_expired(sandbox, make_receiver):
    receiver = make_receiver(500)
    create_workflow(sandbox)
    wait_for(lambda: [d for d in deliveries_to(sandbox, receiver.url) if d["attempts"] == 1], message="attempt 1")

    sandbox.advance_clock(24 * 3600 + 60)

    delivery = wait_for(
        lambda: next((d for d in deliveries_to(sandbox, receiver.url) if d["nextAttemptAt"] is None), None),
        message="the delivery to be given up",
    )
    assert delivery["delivered"] is False
    assert delivery["attempts"] == 1
    assert len(receiver.requests()) == 1


def test_it_retries_when_the_receiver_does_not_answer(sandbox):
    unreachable = "http://127.0.0.1:9/events"
    sandbox.control("POST", "webhooks", json={"url": unreachable, "secret": SECRET})
    create_workflow(sandbox)

    delivery = wait_for(lambda: next((d for d in deliveries_to(sandbox, unreachable) if d["attempts"]), None),
                        message="a failed attempt")

    assert delivery["delivered"] is False
    assert delivery["lastStatus"] is None
    assert delivery["nextAttemptAt"] is not None


def test_removed_receivers_get_nothing(sandbox, make_receiver):
    receiver = make_receiver(200)
    sandbox.control("DELETE", "webhooks")

    create_workflow(sandbox)

    assert deliveries_to(sandbox, receiver.url) == []
    assert receiver.requests() == []


def test_a_receiver_removed_after_it_got_events_gets_no_more(sandbox, make_receiver):
    receiver = make_receiver(200)
    create_workflow(sandbox)
    wait_for(receiver.requests, message="the first event")
    sandbox.control("DELETE", "webhooks")

    create_workflow(sandbox)

    assert deliveries_to(sandbox, receiver.url) == []
    assert len(receiver.requests()) == 1


def test_the_deliveries_listing_never_shows_the_secret(sandbox, make_receiver):
    receiver = make_receiver(200)
    create_workflow(sandbox)
    wait_for(lambda: [d for d in deliveries_to(sandbox, receiver.url) if d["delivered"]], message="a delivery")

    listing = sandbox.control("GET", "deliveries")

    assert SECRET not in listing.text
    assert set(deliveries_to(sandbox, receiver.url)[0]) == {
        "id", "eventId", "eventName", "url", "attempts", "delivered", "lastStatus", "nextAttemptAt"}


def test_a_webhook_without_a_valid_url_and_secret_is_rejected(sandbox):
    response = requests.post(f"{sandbox.root_url}/_sandbox/webhooks", json={"url": "ftp://x", "secret": ""},
                             timeout=10)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert {param["name"] for param in response.json()["invalidParams"]} == {"url", "secret"}


def test_the_webhook_endpoints_are_hidden_when_the_control_api_is_off(tmp_path):
    process = SandboxProcess(workdir=tmp_path, extra_env={"SANDBOX_CONTROL": "false"})
    process.start()
    try:
        post = requests.post(f"{process.root_url}/_sandbox/webhooks", json={"url": "http://x/", "secret": "s"},
                             timeout=10)
        listing = requests.get(f"{process.root_url}/_sandbox/deliveries", timeout=10)
    finally:
        process.stop()

    assert post.status_code == 404
    assert listing.status_code == 404


def test_expired_events_are_forgotten_a_day_later(sandbox, make_receiver):
    receiver = make_receiver(200)
    create_workflow(sandbox)
    wait_for(lambda: [d for d in deliveries_to(sandbox, receiver.url) if d["delivered"]], message="a delivery")

    sandbox.advance_clock(2 * 24 * 3600 + 60)

    wait_for(lambda: deliveries_to(sandbox, receiver.url) == [], message="the expired event to be deleted")
