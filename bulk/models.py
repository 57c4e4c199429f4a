"""Bulk actions: one person's action on many journeys, dry-run first, then run by Celery journey by journey.

A ``BulkJob`` is written by the dry run (status ``draft``) with one ``BulkItem`` per selected journey and the dry
run's verdict for it (``will_act`` or ``refused`` with the reason); a large selection is checked by chunk tasks first
(status ``checking``). Confirming switches the job to ``running`` and
its will-act items to ``pending``; chunk tasks then take each item with a conditional UPDATE (pending → running,
with the run's token), call the single-journey service and record the outcome, so an item is acted on at most
once however often its task is delivered. An item left ``running`` by a worker that died is set to ``recheck``
and its outcome is read back from Mint and the portal's own records, never acted on blindly again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class BulkAction(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    CONTINUE = "continue", "Continue a manual step"
    ASSIGN = "assign", "Assign to a person"
    URL = "url", "Create new journey URLs"
    NOTE = "note", "Add a note"


class JobStatus(models.TextChoices):
    # A large selection's dry run runs in chunk tasks; the job is a draft once every journey is checked.
    CHECKING = "checking", "Dry run in progress"
    DRAFT = "draft", "Dry run, waiting for confirmation"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"


class Verdict(models.TextChoices):
    CHECKING = "checking", "Being checked"
    WILL_ACT = "will_act", "Will act"
    REFUSED = "refused", "Refused"


class ItemStatus(models.TextChoices):
    # Not run: the dry run refused it, or the job is still a draft.
    IDLE = "idle", "Not run"
    PENDING = "pending", "Queued"
    RUNNING = "running", "Running"
    # Found running after its worker died: its outcome is read back, not acted on again blindly.
    RECHECK = "recheck", "Being checked after a crash"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"

    @classmethod
    def final(cls) -> frozenset[str]:
        return frozenset({cls.DONE, cls.REFUSED, cls.FAILED, cls.UNKNOWN})


class BulkJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The dry-run form's idempotency key: a double-submitted form makes one job.
    key = models.CharField(max_length=64)
    action = models.CharField(max_length=16, choices=BulkAction.choices)
    # The action's parameters: reason, step_id and answers, assignee_id, time_to_live, content.
    params = models.JSONField(default=dict, blank=True)
    # How the journeys were chosen, in words (for the page and the audit trail).
    selection = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.DRAFT)
    total = models.PositiveIntegerField(default=0)
    will_act = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = (models.UniqueConstraint(fields=["created_by", "key"], name="bulk_job_key_once"),)

    def __str__(self) -> str:
        return f"{self.get_action_display()} of {self.total} journeys"


class BulkItem(models.Model):
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    journey_id = models.CharField(max_length=100)
    # Kept from the mirror when the dry run ran, for the page and the results CSV ("" when not visible).
    journey_name = models.TextField(blank=True, default="")
    workflow_id = models.CharField(max_length=100, blank=True, default="")
    # The step the action targets (approvals, continue), as the dry run found it waiting.
    step_id = models.TextField(blank=True, default="")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.IDLE)
    # The token of the task run holding the item while it runs.
    token = models.CharField(max_length=64, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True, default="")
    # A new journey URL and its expiry (the URL action only); the URL is a bearer link shown to the job's owner.
    journey_url = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("job", "position")
        constraints = (
            models.UniqueConstraint(fields=["job", "position"], name="bulk_item_position_once"),
            models.UniqueConstraint(fields=["job", "journey_id"], name="bulk_item_journey_once"),
        )
        indexes = (models.Index(fields=["job", "status", "position"], name="bulk_item_job_status"),)

    def __str__(self) -> str:
        return f"{self.journey_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in ItemStatus.final()
