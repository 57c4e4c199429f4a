"""Which fields of a workflow's journeys are personal data, and who may currently see one journey's values.

A ``PersonalDataDeclaration`` belongs to one workflow version (Mint never changes a version, and a new version may
add or drop fields); a version without its own declaration uses the nearest earlier version's, else the nearest
later one's (``privacy.selectors.declarations_for``), so declaring once covers a workflow's older journeys too.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Limits of a declaration: a path as long as the journeys list's data paths, and more fields than any form has.
MAX_FIELDS = 200
MAX_PATH = 200
MAX_REASON = 500


class PersonalDataDeclaration(models.Model):
    """``fields`` is a list of ``{"path": "steps.login.nationalId", "kind": "national_id"}``, checked by
    ``privacy.services.declaration_problems`` before every save."""

    workflow_id = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    fields = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("workflow_id", "version"), name="personal_data_per_version"),
        )

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.version}: {len(self.fields)} personal fields"


class RevealGrant(models.Model):
    """One press of "Reveal": ``user`` sees ``journey_id``'s personal values until ``expires_at``. The reason
    and the fields go to the audit trail as well; this row only answers "may they see it now"."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    journey_id = models.CharField(max_length=100)
    workflow_id = models.CharField(max_length=100)
    reason = models.CharField(max_length=MAX_REASON)
    fields = models.JSONField(default=list, blank=True)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = (models.Index(fields=["user", "journey_id", "expires_at"], name="reveal_user_journey"),
                   models.Index(fields=["expires_at"], name="reveal_expires"))

    def __str__(self) -> str:
        return f"{self.user_id} may see {self.journey_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class RetentionRule(models.Model):
    """A workflow's own retention, in days after a journey ends (0: forget at once); without one,
    ``settings.PERSONAL_DATA_RETENTION_DAYS`` applies."""

    workflow_id = models.CharField(max_length=100, unique=True)
    days = models.PositiveIntegerField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.workflow_id}: {self.days} days"
