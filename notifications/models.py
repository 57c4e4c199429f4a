"""E-mail notifications: what each person chose to receive, and the log of what was mailed to whom.

The log's unique key (event, person) is what keeps a mail from going out twice: a sender claims the row before it
sends, so two runs or two workers at once find the row taken (see ``notifications.services``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Mode(models.TextChoices):
    IMMEDIATE = "immediate", "At once: one e-mail for each new case"
    DIGEST = "digest", "Once a day: one e-mail listing the new cases"
    OFF = "off", "Off: no e-mail"


class NotificationPreference(models.Model):
    """How one person wants to hear about new work, and since when they listen.

    ``watch_from`` is the watermark: work that started waiting before it (before the person turned notifications
    on, or before the portal first looked at them) is never mailed, so a first start does not send the backlog.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    watch_from = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"user {self.user_id}: {self.mode}"


class Kind(models.TextChoices):
    WORK = "work", "New work"
    DIGEST = "digest", "Daily digest"
    ASSIGNMENT = "assignment", "Assigned to you"
    SLA = "sla", "SLA breached"


class Status(models.TextChoices):
    # Claimed by a sender that is mailing it now (until ``lease_until``; a sender that died leaves it to retry).
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    # The mail server refused or could not be reached: a later run sends it (from ``retry_at``).
    FAILED = "failed", "Failed, to retry"
    # Nothing to mail, recorded so that the scan does not look at it again (an SLA breached before the watermark,
    # work a digest already listed).
    SKIPPED = "skipped", "Not mailed"


class SentMail(models.Model):
    """One event told to one person: at most one row per (event, person), claimed before the mail is sent."""

    event = models.CharField(max_length=300)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    # What the event is about, so that the scans can leave told events out in the database: the journey, and when
    # its step started waiting (new work, SLA) or when the case was assigned.
    journey_id = models.CharField(max_length=100, blank=True, default="")
    since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    # The kind of failure only (an exception's class name), never the server's text, which may echo addresses.
    last_error = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = (models.UniqueConstraint(fields=("event", "user"), name="sent_mail_once_per_event_person"),)
        indexes = (
            models.Index(fields=("user", "kind", "journey_id"), name="sent_mail_user_kind_journey"),
            models.Index(fields=("status", "retry_at"), name="sent_mail_status_retry"),
        )

    def __str__(self) -> str:
        return f"{self.event} → user {self.user_id} ({self.status})"
