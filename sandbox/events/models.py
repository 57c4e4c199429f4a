"""Event receivers, published envelopes and one delivery row per (event, receiver).

The envelope is stored as the exact JSON text that is sent and signed, so that every retry carries the same
bytes and the same event id (receivers de-duplicate on it).
"""

from __future__ import annotations

import uuid

from django.db import models


def new_id() -> str:
    return str(uuid.uuid4())


class Receiver(models.Model):
    """A webhook receiver added through the control API (the one from settings is not stored)."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    url = models.CharField(max_length=2000)
    # Never logged or returned: it is the HMAC key receivers verify signatures with.
    secret = models.CharField(max_length=500)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    """One published Signicat Events envelope."""

    id = models.CharField(primary_key=True, max_length=36, editable=False)
    event_name = models.CharField(max_length=100)
    body = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="event_expires_idx")]

    def __str__(self) -> str:
        return f"{self.event_name} {self.id}"


class Delivery(models.Model):
    """Sending one event to one receiver; ``next_attempt_at`` is null once delivered or given up."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # Null means the receiver configured by SANDBOX_WEBHOOK_URL / SANDBOX_WEBHOOK_SECRET.
    receiver = models.ForeignKey(Receiver, on_delete=models.CASCADE, null=True, related_name="deliveries")
    url = models.CharField(max_length=2000)
    attempts = models.PositiveIntegerField(default=0)
    delivered = models.BooleanField(default=False)
    last_status = models.PositiveSmallIntegerField(null=True)
    next_attempt_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.url}"
