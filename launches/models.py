"""Launch records: every journey the portal starts is written down before Mint is asked.

A ``Launch`` is created first (who, which workflow, what input, a unique key) and only then does a
Celery task call Mint. Its status moves ``pending → starting → started`` (or ``failed`` /
``needs_review``) through conditional UPDATEs, so a task delivered twice, or redelivered after a worker
died, never starts a second journey. A ``BulkLaunch`` groups the launches made from one CSV upload: each
CSV row becomes one ``Launch`` with its row number (``draft`` until the user confirms, ``invalid`` when
the row failed validation, with its ``errors``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class LaunchStatus(models.TextChoices):
    DRAFT = "draft", "Not confirmed"
    INVALID = "invalid", "Invalid"
    PENDING = "pending", "Queued"
    STARTING = "starting", "Starting"
    STARTED = "started", "Started"
    FAILED = "failed", "Failed"
    NEEDS_REVIEW = "needs_review", "Needs review"

    @classmethod
    def final(cls) -> frozenset[str]:
        return frozenset({cls.INVALID, cls.STARTED, cls.FAILED, cls.NEEDS_REVIEW})


# The portal's status colours (static/css/portal.css) that fit each launch status.
STATUS_STYLE: dict[str, str] = {
    LaunchStatus.DRAFT: "status-idle", LaunchStatus.INVALID: "status-faulted", LaunchStatus.PENDING: "status-idle",
    LaunchStatus.STARTING: "status-running", LaunchStatus.STARTED: "status-finished",
    LaunchStatus.FAILED: "status-faulted", LaunchStatus.NEEDS_REVIEW: "status-active",
}


class BulkLaunchStatus(models.TextChoices):
    VALIDATED = "validated", "Validated, waiting for confirmation"
    LAUNCHING = "launching", "Launching"
    FINISHED = "finished", "Finished"
    DISCARDED = "discarded", "Discarded"


class BulkLaunch(models.Model):
    """One CSV upload: its rows are ``Launch`` rows pointing here, in file order by ``row_number``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow_id = models.CharField(max_length=100, db_index=True)
    workflow_name = models.CharField(max_length=255, blank=True, default="")
    filename = models.CharField(max_length=255, blank=True, default="")
    columns = models.JSONField(default=list, blank=True)
    journey_url_ttl = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=BulkLaunchStatus.choices, default=BulkLaunchStatus.VALIDATED)
    row_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    # File-level problems (a missing or unknown column, an unreadable file); rows are not launched when set.
    file_errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.filename or 'CSV'} ({self.row_count} rows)"

    @property
    def valid_count(self) -> int:
        return self.row_count - self.invalid_count

    @property
    def can_confirm(self) -> bool:
        return self.status == BulkLaunchStatus.VALIDATED and not self.file_errors and self.valid_count > 0


class Launch(models.Model):
    """One request to start a journey, written before Mint is called and updated with the outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The idempotency key: a form resubmitted or a row processed twice maps to the same record.
    key = models.CharField(max_length=100, unique=True)
    workflow_id = models.CharField(max_length=100, db_index=True)
    workflow_name = models.CharField(max_length=255, blank=True, default="")
    input = models.JSONField(default=dict, blank=True)
    journey_url_ttl = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=LaunchStatus.choices, default=LaunchStatus.PENDING)
    bulk = models.ForeignKey(BulkLaunch, null=True, blank=True, on_delete=models.CASCADE, related_name="launches")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    # Validation problems of a bulk row: [{"column": ..., "message": ...}].
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the claim was taken, renewed by the claiming worker while its Mint call runs (a lease heartbeat).
    claimed_at = models.DateTimeField(null=True, blank=True)
    # A pending launch waiting on a retry (Mint said 429 or was unreachable): when that retry is due. The
    # periodic requeue queues it again if it is still pending well after, because its message was lost.
    retry_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    journey_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    journey_url = models.TextField(blank=True, default="")
    journey_url_expires_at = models.DateTimeField(null=True, blank=True)
    # The step the journey waited on when Mint answered the start (``stepId`` of the start answer), if it said.
    step_id = models.CharField(max_length=100, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    trace_id = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.UniqueConstraint(fields=["bulk", "row_number"], name="launch_bulk_row_unique"),
        )
        indexes = (
            models.Index(fields=["bulk", "status", "row_number"], name="launch_bulk_status_row"),
        )

    def __str__(self) -> str:
        return f"{self.workflow_name or self.workflow_id} launch {self.id}"

    @property
    def is_final(self) -> bool:
        return self.status in LaunchStatus.final()

    @property
    def status_style(self) -> str:
        return STATUS_STYLE.get(self.status, "status-idle")
