"""The portal's own records about workflows, and the state of the mirrors' syncs.

``SecretRecord`` is the register of secrets created through the portal, because Mint's API has no listing
of secrets. Secret values are never stored here. What access decisions need about each workflow (tags,
names) is ``accounts.models.WorkflowRecord``. ``SyncState`` serves every mirror's sync (workflows here,
journeys above): it lives in the lowest app that syncs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SecretRecord(models.Model):
    id = models.CharField(primary_key=True, max_length=100)
    name = models.CharField(max_length=50)
    description = models.CharField(max_length=100, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class SyncState(models.Model):
    """Progress and lease of one kind of sync ("journeys", "workflows", "journey-sweep"), one row each.

    ``watermark`` is the newest ``lastExecutedAt`` the journey sync has fully stored; it only moves after a
    run succeeds. The lease (``lease_owner`` until ``lease_until``) is taken with a conditional UPDATE so
    that two beats, or a run overlapping the next, never sync at once, and a crashed worker's lease expires.
    """

    name = models.CharField(primary_key=True, max_length=32)
    watermark = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        # The table the journeys app created (journeys 0002) before the model moved here.
        db_table = "journeys_syncstate"

    def __str__(self) -> str:
        return self.name


class StepForm(models.Model):
    """The form a person fills in to continue a suspend step of one workflow version.

    ``fields`` is the ordered list of ``workflows.stepforms.FormField`` as JSON (checked by
    ``workflows.stepforms.form_problems`` before every save). Mint numbers versions and never changes one, so a
    form belongs to one (workflow, version, step); a version without its own form starts from the nearest
    earlier version's (``workflows.selectors.step_form_get``).
    """

    workflow_id = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    step_id = models.CharField(max_length=50)
    fields = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = (
            # In this order, the constraint's index also serves the "nearest earlier version" lookup.
            models.UniqueConstraint(fields=("workflow_id", "step_id", "version"), name="step_form_per_version"),
        )

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.version} {self.step_id}"
