"""The portal's own records about workflows.

``SecretRecord`` is the register of secrets created through the portal, because Mint's API has no listing
of secrets. Secret values are never stored here. What access decisions need about each workflow (tags,
names) is ``accounts.models.WorkflowRecord``.
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
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
