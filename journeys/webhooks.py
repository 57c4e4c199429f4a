"""The receiver of Signicat Events deliveries: ``POST /webhooks/mint``.

A delivery is a Signicat Events envelope ``{id, timestamp, sender, eventName, eventData, ...}`` with the
header ``Signicat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` keyed with
``MINT_WEBHOOK_SECRET``. The receiver answers quickly and does no Mint call itself: it checks the signature
and its age, records the event id (a repeated id is acknowledged and ignored) and queues a task that
refreshes what the event names:

- ``mint-api:journey_status_changed`` (``eventData.journeyId``): the journey's mirror row, from its detail;
- ``mint-api:create_event`` / ``mint-api:save_event`` (``eventData.workflowId``): the workflow mirror row.

Answers: 202 accepted, 200 duplicate or ignored event, 400 malformed or stale, 401 bad signature (or no
secret configured), 503 when the task could not be queued (the sender retries later).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from journeys.models import WebhookEvent

logger = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "Signicat-Signature"
# Deliveries signed longer ago (or further in the future) than this are refused: a replayed old delivery
# cannot pass even with a valid signature.
TOLERANCE_SECONDS: Final = 300
# Seen event ids are kept a week: Signicat Events expire after a day, so older ids can no longer repeat.
SEEN_IDS_KEPT: Final = timedelta(days=7)
MAX_BODY_BYTES: Final = 256 * 1024

JOURNEY_EVENTS: Final = frozenset({"mint-api:journey_status_changed"})
WORKFLOW_EVENTS: Final = frozenset({"mint-api:create_event", "mint-api:save_event"})


class WebhookRejected(Exception):
    """The delivery is refused; ``status`` is the HTTP answer and the message is safe to return."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebhookOutcome:
    status: int
    result: str
    event_id: str = ""


def _parse_signature(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value.strip().lower())
    if timestamp is None or not signatures:
        raise WebhookRejected("malformed signature header", status=400)
    return timestamp, signatures


def webhook_verify(*, body: bytes, header: str | None, secret: str | None, now: float | None = None) -> None:
    """Raises ``WebhookRejected`` unless ``header`` signs ``body`` with ``secret`` within the tolerance.

    The signature is compared in constant time and checked before the age, so an attacker learns nothing
    about the timestamp rule without the secret.
    """
    if not secret:
        logger.warning("webhook refused: MINT_WEBHOOK_SECRET is not set")
        raise WebhookRejected("webhooks are not configured", status=401)
    if not header:
        raise WebhookRejected("missing signature header", status=400)
    timestamp, signatures = _parse_signature(header)
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookRejected("bad signature", status=401)
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > TOLERANCE_SECONDS:
        raise WebhookRejected("stale signature timestamp", status=400)


def _parse_envelope(body: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected("body is not JSON", status=400) from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("id"), str) or not envelope["id"]:
        raise WebhookRejected("not a Signicat Events envelope", status=400)
    if not isinstance(envelope.get("eventName"), str) or not isinstance(envelope.get("eventData", {}), dict):
        raise WebhookRejected("not a Signicat Events envelope", status=400)
    return envelope


def _queue_refresh(event_name: str, data: dict[str, Any]) -> bool:
    """Queues the refresh an event calls for; returns False when the event names nothing we mirror."""
    from journeys import tasks

    if event_name in JOURNEY_EVENTS and isinstance(data.get("journeyId"), str):
        tasks.journey_refresh.delay(data["journeyId"])
        return True
    if event_name in WORKFLOW_EVENTS and isinstance(data.get("workflowId"), str):
        tasks.workflow_refresh.delay(data["workflowId"])
        return True
    return False


def webhook_receive(*, body: bytes, signature_header: str | None) -> WebhookOutcome:
    """Verifies and records one delivery, queueing the refresh it calls for. Raises ``WebhookRejected``.

    The event id is inserted in the same transaction that queues the task: if queueing fails the id is
    not kept, so the sender's retry is processed instead of being mistaken for a repeat.
    """
    webhook_verify(body=body, header=signature_header, secret=settings.MINT_WEBHOOK_SECRET)
    envelope = _parse_envelope(body)
    event_id, event_name = envelope["id"][:100], envelope["eventName"]
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(id=event_id, event_name=event_name[:100], received_at=timezone.now())
            queued = _queue_refresh(event_name, envelope.get("eventData") or {})
    except IntegrityError:
        logger.info("webhook %s (%s): repeated id, ignored", event_id, event_name)
        return WebhookOutcome(status=200, result="duplicate", event_id=event_id)
    except Exception as exc:
        logger.error("webhook %s (%s): could not queue the refresh: %s", event_id, event_name, type(exc).__name__)
        raise WebhookRejected("temporarily unable to accept events", status=503) from exc
    logger.info("webhook %s (%s): %s", event_id, event_name, "queued" if queued else "ignored")
    return WebhookOutcome(status=202 if queued else 200, result="accepted" if queued else "ignored",
                          event_id=event_id)


def webhook_events_prune() -> int:
    """Deletes seen event ids older than a week (they cannot be delivered again); returns how many."""
    deleted, _ = WebhookEvent.objects.filter(received_at__lt=timezone.now() - SEEN_IDS_KEPT).delete()
    return deleted


@csrf_exempt
@require_POST
def mint_webhook(request: HttpRequest) -> JsonResponse:
    """Signicat Events receiver (signed by the sender, hence exempt from CSRF)."""
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "body too large"}, status=413)
    try:
        outcome = webhook_receive(body=request.body, signature_header=request.headers.get(SIGNATURE_HEADER))
    except WebhookRejected as rejected:
        return JsonResponse({"error": str(rejected)}, status=rejected.status)
    return JsonResponse({"result": outcome.result, "id": outcome.event_id}, status=outcome.status)
