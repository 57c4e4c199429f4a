"""Erasure requests: "forget a person" as the data protection officer asked it, without keeping the person.

The value searched for (a national id, a name) is never stored: only its keyed hashes under the kinds asked for
(``privacy.masking.search_hashes``), which is all the confirm step needs to find the same journeys again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

REFERENCE_MAX_LENGTH = 100


class ErasureState(models.TextChoices):
    DRAFT = "draft", "Found, waiting for confirmation"
    DONE = "done", "Erased"


class ErasureRequest(models.Model):
    """One request to forget a person: found (``draft``), then confirmed and carried out (``done``)."""

    # The requester's own reference (a ticket number), so the DPO can match the report to the request.
    reference = models.CharField(max_length=REFERENCE_MAX_LENGTH)
    # The kinds the value was looked up as (empty: every kind).
    kinds = models.JSONField(default=list, blank=True)
    value_hashes = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=ErasureState.choices, default=ErasureState.DRAFT)
    # The journeys found at the find step: the confirm step purges exactly these (what the requester saw).
    journey_ids = models.JSONField(default=list, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # What the portal removed and what remains in Mint (``compliance.services.erasure.ErasureReport`` as JSON).
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"Erasure {self.reference} ({self.state})"

    @property
    def is_done(self) -> bool:
        return self.state == ErasureState.DONE


# The case-file batches live in their own module (compliance/casefile_models.py); imported here so that Django
# finds the model of this app.
from compliance.casefile_models import CaseFileJob, CaseFileJobState  # noqa: E402

__all__ = ["CaseFileJob", "CaseFileJobState", "ErasureRequest", "ErasureState"]
