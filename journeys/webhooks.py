"""The receiver of Signicat Events deliveries: ``POST /webhooks/mint``.

A delivery is a Signicat Events envelope ``{id, timestamp, sender, eventName, eventData, ...}`` with the
header ``Signicat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` keyed with
``MINT_WEBHOOK_SECRET``. The receiver verifies, records and acknowledges, and leaves the work to a task: it
checks the signature and its age, notes the event id in the cache (a repeated id is acknowledged and
ignored) and queues ``journeys.tasks.webhook_process_task`` with what the event names. The request touches
neither the database nor Mint: two round trips to Redis (a ``SET NX``, a publish) and an HMAC, so a burst of
deliveries is acknowledged at once. The task records the id in ``WebhookEvent`` (the durable guard against
repeats, which the cache may forget) and refreshes:

- ``mint-api:journey_status_changed`` (``eventData.journeyId``): the journey's mirror row, from its detail;
- ``mint-api:create_event`` / ``mint-api:save_event`` (``eventData.workflowId``): the workflow mirror row.

Answers: 202 accepted, 200 duplicate or ignored event, 400 malformed or stale, 401 bad signature (or no
secret configured), 503 when the event could not be noted or queued (the sender retries later).
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
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from journeys.models import WebhookEvent
from journeys.services.sync import journey_refresh
from workflows.sync import workflow_sync

logger = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "Signicat-Signature"
# Deliveries signed longer ago (or further in the future) than this are refused: a replayed old delivery
# cannot pass even with a valid signature.
TOLERANCE_SECONDS: Final = 300
# Seen event ids are kept a week: Signicat Events expire after a day, so older ids can no longer repeat.
SEEN_IDS_KEPT: Final = timedelta(days=7)
# The receiver's quick note of an id lasts a day (an event's lifetime); the task's record lasts the week.
SEEN_IDS_CACHED: Final = timedelta(days=1)
# How long a queued refresh of one journey or workflow absorbs further events about it. The task clears the
# mark as it starts; this expiry only matters if the task is lost, and the sweep and sync cover that case.
REFRESH_PENDING: Final = timedelta(minutes=2)
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


def _target(event_name: str, data: dict[str, Any]) -> str | None:
    """The id of what the event names that the portal mirrors (a journey or a workflow), or None."""
    key = "journeyId" if event_name in JOURNEY_EVENTS else "workflowId" if event_name in WORKFLOW_EVENTS else None
    value = data.get(key) if key else None
    return value[:100] if isinstance(value, str) and value else None


def _seen_key(event_id: str) -> str:
    return "webhook-seen:" + hashlib.sha256(event_id.encode()).hexdigest()


def _pending_key(event_name: str, target_id: str) -> str:
    kind = "journey" if event_name in JOURNEY_EVENTS else "workflow"
    return f"webhook-refresh-pending:{kind}:" + hashlib.sha256(target_id.encode()).hexdigest()


def webhook_receive(*, body: bytes, signature_header: str | None) -> WebhookOutcome:
    """Verifies one delivery, notes its id and queues its processing (``webhook_process_task``); raises
    ``WebhookRejected``. No database write, no Mint call.

    The id is noted with an atomic add in the cache, so a repeat is answered "duplicate" at once. Events about
    a journey (or workflow) whose refresh is queued and not yet started are absorbed by it, since it reads
    Mint after they happened: a burst about one journey costs one refresh. If queueing fails the notes are
    taken back, so that the sender's retry is processed instead of being mistaken for a repeat.
    """
    from journeys import tasks

    webhook_verify(body=body, header=signature_header, secret=settings.MINT_WEBHOOK_SECRET)
    envelope = _parse_envelope(body)
    event_id, event_name = envelope["id"][:100], envelope["eventName"][:100]
    target = _target(event_name, envelope.get("eventData") or {})
    if target is None:
        logger.info("webhook %s (%s): names nothing the portal mirrors, ignored", event_id, event_name)
        return WebhookOutcome(status=200, result="ignored", event_id=event_id)
    seen, pending = _seen_key(event_id), _pending_key(event_name, target)
    try:
        if not cache.add(seen, 1, timeout=int(SEEN_IDS_CACHED.total_seconds())):
            logger.info("webhook %s (%s): repeated id, ignored", event_id, event_name)
            return WebhookOutcome(status=200, result="duplicate", event_id=event_id)
        if not cache.add(pending, 1, timeout=int(REFRESH_PENDING.total_seconds())):
            logger.info("webhook %s (%s): a queued refresh covers it", event_id, event_name)
            return WebhookOutcome(status=202, result="accepted", event_id=event_id)
        try:
            tasks.webhook_process_task.delay(event_id, event_name, target)
        except Exception:
            cache.delete_many([seen, pending])
            raise
    except Exception as exc:
        logger.error("webhook %s (%s): could not queue the event: %s", event_id, event_name, type(exc).__name__)
        raise WebhookRejected("temporarily unable to accept events", status=503) from exc
    logger.info("webhook %s (%s): queued", event_id, event_name)
    return WebhookOutcome(status=202, result="accepted", event_id=event_id)


def webhook_process(*, event_id: str, event_name: str, target_id: str, check_repeat: bool = True) -> str:
    """Records a delivered event's id and refreshes what it names; returns "duplicate" or "refreshed".

    The id goes into ``WebhookEvent`` first: an id already there (a repeat the cache forgot, or a message
    delivered twice) is skipped. Then the mark that lets the receiver fold later events into this refresh is
    cleared, before Mint is read. ``check_repeat=False`` is for a retry of this same event after a Mint
    failure, whose id this very event recorded. The refresh reads Mint (``journey_refresh`` or
    ``workflow_sync``); its ``MintError`` propagates for the task's retry policy.
    """
    if check_repeat:
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(id=event_id, event_name=event_name, received_at=timezone.now())
        except IntegrityError:
            logger.info("webhook %s (%s): repeated id, ignored", event_id, event_name)
            return "duplicate"
    # Cleared before Mint is read: an event arriving from now on queues a refresh of its own.
    cache.delete(_pending_key(event_name, target_id))
    if event_name in JOURNEY_EVENTS:
        journey_refresh(journey_id=target_id)
    else:
        workflow_sync(workflow_id=target_id)
    return "refreshed"


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
