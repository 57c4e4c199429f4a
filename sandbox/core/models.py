"""The sandbox's data: API clients and tokens, workflows and versions, journeys and what they carry.

Journey rows stay lean (what the listing shows and filters on); step data, loops, the engine's cursor, the
execution log, files and waits live in their own tables so that a listing over 100,000 journeys reads little.
"""

from __future__ import annotations

import uuid

from django.db import models


def new_id() -> str:
    return str(uuid.uuid4())


class ApiClient(models.Model):
    """An API client the token endpoint accepts; ``roles`` holds "Flow Viewer" and/or "Flow Editor"."""

    client_id = models.CharField(primary_key=True, max_length=200)
    # SHA-256 of the secret: the secret itself is never stored.
    secret_hash = models.CharField(max_length=64)
    roles = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.client_id


class AccessToken(models.Model):
    """An issued bearer token, stored as its SHA-256; deleted when revoked."""

    token_hash = models.CharField(primary_key=True, max_length=64)
    client_id = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.client_id}"


class Workflow(models.Model):
    """A workflow; its definitions are versions. ``latest_version`` is the highest version number."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    latest_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.id


class WorkflowVersion(models.Model):
    """One saved definition of a workflow.

    ``is_latest`` marks the highest version and ``is_current_published`` the highest published one, so that the
    listing's ``version=latest|published`` filters are one indexed column each.
    """

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    description = models.TextField(null=True)  # noqa: DJ001 - null and "" differ in Mint's API
    steps = models.JSONField(default=list)
    connections = models.JSONField(null=True)
    variables = models.JSONField(null=True)
    tags = models.JSONField(null=True)
    input_parameters = models.JSONField(null=True)
    is_latest = models.BooleanField(default=True)
    is_published = models.BooleanField(default=False)
    is_current_published = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "version"], name="workflow_version_unique")]
        indexes = [
            models.Index(fields=["is_latest", "created_at", "workflow"], name="wfv_latest_created_idx"),
            models.Index(fields=["is_current_published", "created_at", "workflow"], name="wfv_published_created_idx"),
            models.Index(fields=["is_latest", "name", "workflow"], name="wfv_latest_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.version}"


class WorkflowFile(models.Model):
    """A file attached to a workflow (all its versions), uploaded through the sandbox's files extension."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.filename


class JourneyStatus(models.TextChoices):
    IDLE = "idle"
    RUNNING = "running"
    ACTIVE = "active"
    FINISHED = "finished"
    FAULTED = "faulted"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({JourneyStatus.FINISHED, JourneyStatus.FAULTED, JourneyStatus.CANCELLED})


class Journey(models.Model):
    """One run of a workflow version: the columns the listing shows, filters and sorts on."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    workflow_id = models.CharField(max_length=36)
    version = models.PositiveIntegerField()
    workflow_version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=JourneyStatus.choices, default=JourneyStatus.IDLE)
    name = models.CharField(max_length=500, null=True)  # noqa: DJ001 - null and "" differ in Mint's API
    workflow_name = models.CharField(max_length=255, null=True)  # noqa: DJ001 - null and "" differ in Mint's API
    created_at = models.DateTimeField()
    last_executed_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    faulted_at = models.DateTimeField(null=True)
    cancelled_at = models.DateTimeField(null=True)
    pending_steps = models.BooleanField(default=False)
    alerts = models.JSONField(default=list)

    class Meta:
        indexes = [
            # The default sort's indexes also carry the searched columns, so that a search (and its count) reads
            # only the index instead of looking up every row it passes (measured with 100,000 journeys).
            models.Index(fields=["last_executed_at", "id", "name", "workflow_name"], name="journey_lastexec_idx"),
            models.Index(fields=["created_at", "id"], name="journey_created_idx"),
            models.Index(fields=["name", "id"], name="journey_name_idx"),
            models.Index(fields=["workflow_name", "id"], name="journey_wfname_idx"),
            models.Index(fields=["version", "id"], name="journey_version_idx"),
            models.Index(fields=["status", "id"], name="journey_status_sort_idx"),
            models.Index(fields=["status", "last_executed_at", "id", "name", "workflow_name"],
                         name="journey_status_lastexec_idx"),
            models.Index(fields=["status", "created_at", "id"], name="journey_status_created_idx"),
            models.Index(fields=["workflow_id", "last_executed_at", "id"], name="journey_wf_lastexec_idx"),
            models.Index(fields=["workflow_id", "created_at", "id"], name="journey_wf_created_idx"),
            models.Index(
                fields=["workflow_id", "status", "last_executed_at", "id"], name="journey_wf_status_lastexec_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.id


class JourneyState(models.Model):
    """The engine's view of a journey: its input, step outputs, loops and where execution stands.

    ``cursor`` is the for-each frame stack of the waiting step, so that a journey waiting inside a loop
    iteration continues in that iteration.
    """

    journey = models.OneToOneField(Journey, on_delete=models.CASCADE, primary_key=True, related_name="state")
    input = models.JSONField(null=True)
    step_data = models.JSONField(default=dict)
    loops = models.JSONField(default=dict)
    cursor = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"state of {self.journey_id}"


class WaitKind(models.TextChoices):
    END_USER = "end_user"
    RESUME = "resume"
    APPROVAL = "approval"
    TIMER = "timer"


class JourneyWait(models.Model):
    """A step a journey is waiting on (an active step). ``due_at`` is set for timers only."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="waits")
    step_id = models.CharField(max_length=50)
    step_type = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=WaitKind.choices)
    due_at = models.DateTimeField(null=True)
    log_step = models.ForeignKey("JourneyLogStep", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["journey", "step_id"], name="journey_wait_unique")]
        indexes = [models.Index(fields=["due_at"], name="journey_wait_due_idx")]

    def __str__(self) -> str:
        return f"{self.journey_id} waits at {self.step_id}"


class JourneyLogStep(models.Model):
    """One execution of one step, in the order they ran; ``status`` and ``events`` are wire-shaped JSON."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="log_steps")
    step_id = models.CharField(max_length=50)
    step_type = models.CharField(max_length=50)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True)
    status = models.JSONField(default=dict)
    events = models.JSONField(default=list)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.journey_id} ran {self.step_id}"


class JourneyFile(models.Model):
    """A file a journey produced (``generate-document``)."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="files")
    step_id = models.CharField(max_length=50, null=True)  # noqa: DJ001 - null and "" differ in Mint's API
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class Note(models.Model):
    """A journey note; ``created_by`` is the API client that wrote it."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="notes")
    step_id = models.CharField(max_length=50, null=True)  # noqa: DJ001 - null and "" differ in Mint's API
    content = models.CharField(max_length=1000)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["journey", "created_at", "id"], name="note_created_idx"),
            models.Index(fields=["journey", "updated_at", "id"], name="note_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.id


class Secret(models.Model):
    """A workflow secret. ``value`` is stored for workflows to use and never leaves the sandbox."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    name = models.CharField(max_length=50)
    description = models.CharField(max_length=100, null=True)  # noqa: DJ001 - null and "" differ in Mint's API
    value = models.TextField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return self.name


class OutboxMessage(models.Model):
    """A message a ``send-email`` step would have sent (nothing leaves the machine)."""

    id = models.CharField(primary_key=True, max_length=36, default=new_id, editable=False)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="outbox")
    step_id = models.CharField(max_length=50)
    to = models.CharField(max_length=500)
    subject = models.CharField(max_length=1000)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to}"
