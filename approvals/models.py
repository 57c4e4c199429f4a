"""Approval decisions made through the portal, and the individual approvals that lead to them.

A ``require-approval`` step may be visited more than once by one journey (inside a for-each loop), so both
tables key on (journey, step, occurrence): occurrence 1 is the first time the portal decides that step,
2 the next, and so on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Decision(models.Model):
    """The one decision sent to Mint for one occurrence of an approval step.

    The row is created, in its own transaction, *before* Mint is called: the unique constraint makes the
    first of several concurrent deciders the only one to call Mint. A row whose call Mint refused is
    deleted, so the approval can be decided again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Being sent to Mint"
        SENT = "sent", "Sent to Mint"

    journey_id = models.CharField(max_length=100)
    step_id = models.CharField(max_length=50)
    occurrence = models.PositiveIntegerField(default=1)
    workflow_id = models.CharField(max_length=100)
    approved = models.BooleanField()
    reason = models.TextField(blank=True, default="")
    # Exactly what Mint received as the approve request's ``message``.
    message = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by_username = models.CharField(max_length=150)
    decided_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    trace_id = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["journey_id", "step_id", "occurrence"], name="decision_once_per_step"),
        )

    def __str__(self) -> str:
        verdict = "approved" if self.approved else "rejected"
        return f"{self.journey_id}/{self.step_id}#{self.occurrence} {verdict} by {self.decided_by_username}"


class ApprovalVote(models.Model):
    """One person's approval of one occurrence of an approval step (four-eyes: N distinct approvers)."""

    journey_id = models.CharField(max_length=100)
    step_id = models.CharField(max_length=50)
    occurrence = models.PositiveIntegerField(default=1)
    workflow_id = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    username = models.CharField(max_length=150)
    reason = models.TextField(blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        ordering = ("at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["journey_id", "step_id", "occurrence", "user"], name="approval_vote_once_per_user"
            ),
        )

    def __str__(self) -> str:
        return f"{self.journey_id}/{self.step_id}#{self.occurrence} approved by {self.username}"
