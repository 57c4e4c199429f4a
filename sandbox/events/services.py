"""Publishing Signicat Events envelopes and delivering them to webhook receivers.

Contract with the rest of the sandbox:

- ``publish_event`` is called by the engine on every journey status change and by the workflow views on
  create/update. It is cheap: with no receiver configured it returns without touching the event tables, and
  otherwise it writes one event row and one delivery row per receiver inside the caller's transaction.
- ``deliver_due`` is called about once a second by the scheduler thread of ``python -m sandbox serve`` (and
  by a delivery thread woken right after a publish commits). It sends what is due and schedules retries.
- ``reset`` is called by ``POST /_sandbox/reset``.

Time comes from the sandbox clock, so ``POST /_sandbox/clock`` moves retries and expiry too. The signature's
``t`` is the real wall-clock time of sending: receivers compare it with their own clock to reject stale
deliveries, and the sandbox clock may have been moved forward by tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models.expressions import RawSQL

from sandbox.core import clock
from sandbox.core.memo import Memo
from sandbox.events.models import Delivery, Event, Receiver

logger = logging.getLogger(__name__)

SENDER = "mint-api"
ACCOUNT_ID = "a-sandbox-account"
ORGANIZATION_ID = "o-sandbox-organization"
# How long an envelope stays deliverable; after this the sandbox stops retrying.
EVENT_TTL = timedelta(hours=24)
KEEP_AFTER_EXPIRY = timedelta(hours=24)
# Backoff after the n-th failed attempt is 2**(n-1) seconds, capped here.
MAX_BACKOFF_SECONDS = 600
# (connect, read) seconds: a slow receiver must not hold up the scheduler thread for long.
SEND_TIMEOUT = (2.0, 5.0)
# A claimed delivery is hidden from other callers for this long, so two threads never send it twice.
CLAIM_LEASE = timedelta(seconds=30)
BATCH_SIZE = 100


@dataclass(frozen=True)
class _Target:
    receiver_id: str | None
    url: str


# A journey start publishes up to three status changes: the receivers are remembered, not read each time, and
# forgotten whenever one is added or removed, inside that change's transaction: publishers write in transactions
# too, so none of them can use a receiver list from before a committed removal (its deliveries would point at a
# deleted row).
_receivers: Memo[None, tuple[_Target, ...]] = Memo(ttl=5.0)


def _load_receivers() -> tuple[_Target, ...]:
    return tuple(_Target(receiver.id, receiver.url) for receiver in Receiver.objects.only("id", "url"))


def _targets() -> list[_Target]:
    targets = list(_receivers.get(None, _load_receivers) or ())
    if settings.SANDBOX_WEBHOOK_URL:
        targets.append(_Target(None, settings.SANDBOX_WEBHOOK_URL))
    return targets


def publish_event(event_name: str, event_data: dict, *, tags: list[str] | None = None) -> None:
    """Queues a Signicat Events envelope for every configured receiver.

    Does nothing when no receiver is configured. Rows are written in the caller's transaction (so a rolled-back
    status change publishes nothing), and delivery starts as soon as that transaction commits.
    """
    targets = _targets()
    if not targets:
        return
    now = clock.now()
    expires_at = now + EVENT_TTL
    event_id = str(uuid.uuid4())
    envelope = {
        "id": event_id,
        "timestamp": clock.isoformat(now),
        "sender": SENDER,
        "eventName": event_name,
        "eventData": event_data,
        "accountId": ACCOUNT_ID,
        "organizationId": ORGANIZATION_ID,
        "expiresAt": clock.isoformat(expires_at),
        "tags": list(tags or []),
    }
    with transaction.atomic():
        event = Event.objects.create(
            id=event_id,
            event_name=event_name,
            body=json.dumps(envelope, separators=(",", ":"), default=str),
            created_at=now,
            expires_at=expires_at,
        )
        Delivery.objects.bulk_create(
            Delivery(event=event, receiver_id=target.receiver_id, url=target.url, next_attempt_at=now, created_at=now)
            for target in targets
        )
    transaction.on_commit(_wake_delivery_thread)


def sign(secret: str, timestamp: int, body: str) -> str:
    """The ``Signicat-Signature`` header value for ``body`` sent at unix time ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _secret_for(delivery: Delivery) -> str:
    if delivery.receiver is not None:
        return delivery.receiver.secret
    return settings.SANDBOX_WEBHOOK_SECRET or ""


def _send(delivery: Delivery) -> int | None:
    """POSTs the envelope once; returns the HTTP status, or None when no answer came."""
    body = delivery.event.body
    headers = {
        "Content-Type": "application/json",
        "Signicat-Signature": sign(_secret_for(delivery), int(time.time()), body),
        "User-Agent": "mint-sandbox-events/1",
    }
    try:
        response = requests.post(
            delivery.url, data=body.encode(), headers=headers, timeout=SEND_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as error:
        # The exception text names the URL and the failure, never the headers.
        logger.info("event %s to %s: no answer (%s)", delivery.event_id, delivery.url, type(error).__name__)
        return None
    logger.info("event %s to %s: HTTP %s", delivery.event_id, delivery.url, response.status_code)
    return response.status_code


def _claim(delivery: Delivery, now: datetime) -> bool:
    """Takes a due delivery for this caller only (a conditional update), hiding it from concurrent callers."""
    return bool(
        Delivery.objects.filter(pk=delivery.pk, next_attempt_at=delivery.next_attempt_at).update(
            next_attempt_at=now + CLAIM_LEASE
        )
    )


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


# The scheduler's tick and the delivery thread both deliver; taking turns keeps a receiver's envelopes in the
# order they were published (two threads sending the same batch at once could swap neighbours).
_deliver_lock = threading.Lock()


def deliver_due() -> int:
    """Sends every delivery whose next attempt is due by the sandbox clock, in publishing order; returns how many
    were attempted.

    A 2xx answer marks the delivery delivered. Anything else (another status, a timeout, a refused connection)
    schedules the next attempt with exponential backoff, unless that would fall at or after the envelope's
    ``expiresAt``: then the delivery is given up (``next_attempt_at`` cleared, ``delivered`` false). Events
    (with their deliveries) are deleted a day after they expire.
    """
    with _deliver_lock:
        return _deliver_due()


def _deliver_due() -> int:
    attempted = 0
    now = clock.now()
    # Nothing is retried after expiresAt; a day later the record goes too, so the tables stay small.
    Event.objects.filter(expires_at__lt=now - KEEP_AFTER_EXPIRY).delete()
    due = list(
        Delivery.objects.filter(next_attempt_at__lte=now)
        .select_related("event", "receiver")
        # Ties (events published in the same millisecond, e.g. a journey's idle, running and finished) go in
        # insertion order: SQLite's rowid, which the next_attempt_at index already ends with. The ids are random.
        .order_by("next_attempt_at", RawSQL(f"{Delivery._meta.db_table}.rowid", ()))[:BATCH_SIZE]
    )
    for delivery in due:
        if not _claim(delivery, now):
            continue
        if now >= delivery.event.expires_at:
            Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
            continue
        status = _send(delivery)
        attempted += 1
        delivered = status is not None and 200 <= status < 300
        next_attempt_at = None
        if not delivered:
            candidate = clock.now() + _backoff(delivery.attempts + 1)
            next_attempt_at = candidate if candidate < delivery.event.expires_at else None
        Delivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts + 1,
            delivered=delivered,
            last_status=status,
            next_attempt_at=next_attempt_at,
        )
    return attempted


def reset() -> None:
    """Removes the control API's receivers, every pending delivery and events left without deliveries."""
    with transaction.atomic():
        Receiver.objects.all().delete()
        Delivery.objects.filter(next_attempt_at__isnull=False).delete()
        Event.objects.filter(deliveries__isnull=True).delete()
        _receivers.forget()


def receiver_add(*, url: str, secret: str) -> Receiver:
    """Adds a webhook receiver; every event published from now on is also sent to it."""
    with transaction.atomic():
        receiver = Receiver.objects.create(url=url, secret=secret, created_at=clock.now())
        _receivers.forget()
    return receiver


def receivers_remove() -> None:
    """Removes every receiver added through the control API, with their deliveries."""
    with transaction.atomic():
        Receiver.objects.all().delete()
        _receivers.forget()


_wake = threading.Event()
_thread_lock = threading.Lock()
_thread: threading.Thread | None = None


def _delivery_loop() -> None:
    while True:
        _wake.wait()
        _wake.clear()
        try:
            deliver_due()
        except Exception:
            # The scheduler thread retries within a second; this thread must survive to serve the next wake-up.
            logger.exception("delivering events failed")
        finally:
            close_old_connections()


def _wake_delivery_thread() -> None:
    """Starts (once per process) and wakes the thread that delivers right after a publish commits."""
    global _thread
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_delivery_loop, name="sandbox-events", daemon=True)
            _thread.start()
    _wake.set()
