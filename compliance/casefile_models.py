"""A batch of case files: one person's request for the case files of up to 1,000 journeys, rendered into one zip by
a Celery task (``compliance.casefile_jobs.casefile_job_run``) while its page shows the progress.

The journeys are fixed when the job is created (the list's filters as they matched then); each case file is masked
for the job's owner as they may see it when it is rendered, so a reveal that has ended by then no longer shows.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class CaseFileJobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Rendering"
    DONE = "done", "Done"
    # The task itself failed (not one journey: those are listed in the manifest); the zip is not offered.
    FAILED = "failed", "Failed"


class CaseFileJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The journeys list's query string the journeys were chosen by (for the page and the audit trail).
    query = models.TextField(blank=True, default="")
    journey_ids = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=CaseFileJobState.choices, default=CaseFileJobState.QUEUED)
    # The owner's time zone when they asked: every time in the case files is written in it.
    time_zone = models.CharField(max_length=64, default="UTC")
    # Where the finished zip is, under settings.RUN_DIR / "casefiles" ("" until it is written).
    zip_path = models.CharField(max_length=500, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects: models.Manager[CaseFileJob] = models.Manager()

    class Meta:
        app_label = "compliance"
        ordering = ("-created_at",)
        indexes = (models.Index(fields=["owner", "-created_at"], name="casefile_job_owner_created"),)

    def __str__(self) -> str:
        return f"Case files of {self.total} journeys ({self.state})"

    @property
    def is_running(self) -> bool:
        return self.state in (CaseFileJobState.QUEUED, CaseFileJobState.RUNNING)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, (self.done + self.failed) * 100 // self.total)
