"""Reads for the control API: event deliveries as ``GET /_sandbox/deliveries`` shows them."""

from __future__ import annotations

from sandbox.core.clock import isoformat
from sandbox.events.models import Delivery


def delivery_list() -> list[dict]:
    """Every delivery, oldest first, without the receiver's secret."""
    return [
        {
            "id": delivery.id,
            "eventId": delivery.event_id,
            "eventName": delivery.event.event_name,
            "url": delivery.url,
            "attempts": delivery.attempts,
            "delivered": delivery.delivered,
            "lastStatus": delivery.last_status,
            "nextAttemptAt": isoformat(delivery.next_attempt_at),
        }
        for delivery in Delivery.objects.select_related("event").order_by("created_at", "id")
    ]
