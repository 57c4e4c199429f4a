"""The journey mirror: the portal's own copy of Mint's journey listing.

Listing, filtering, counting and exporting read these rows so that they never wait on Mint; the sync
service (journeys/services/sync.py) keeps them current and a journey's page refreshes its row live.
"""

from __future__ import annotations

from typing import Final

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from mintportal.mint.models import ALERT_SEVERITIES, FINAL_JOURNEY_STATUSES

# The sync state moved to the workflows app (the lowest app that syncs a mirror); this name stays only until
# operations/selectors.py imports it from workflows.models.

# The step types people act on from the portal: a case handler continues a suspend step, an approver decides a
# require-approval step. Every other waiting step (an end user's form or eID login, a timer) is not the portal's.
SUSPEND_STEP: Final = "suspend"
APPROVAL_STEP: Final = "require-approval"

# A journey's alert level (``Journey.alert_level``, which lists sort on) is 0 without alerts, else the rank of its
# highest severity in Mint's ALERT_SEVERITIES: 1 info, 2 warning, 3 critical.
NO_ALERT: Final = 0
NO_ALERT_NAME: Final = "none"


def severity_level(severity: str) -> int:
    """The alert level of one alert's severity. A severity Mint adds later still counts as an alert (the lowest
    level), so the journey sorts above journeys with none."""
    normalised = severity.lower()
    return ALERT_SEVERITIES.index(normalised) + 1 if normalised in ALERT_SEVERITIES else 1


def alert_level_name(level: int) -> str:
    """The severity an alert level stands for ("none" for 0); an unknown level reads as the lowest severity."""
    if level == NO_ALERT:
        return NO_ALERT_NAME
    return ALERT_SEVERITIES[level - 1] if 0 < level <= len(ALERT_SEVERITIES) else ALERT_SEVERITIES[0]


class JourneyStatus(models.TextChoices):
    IDLE = "idle", "Idle"
    RUNNING = "running", "Running"
    ACTIVE = "active", "Active"
    FINISHED = "finished", "Finished"
    FAULTED = "faulted", "Faulted"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def final(cls) -> frozenset[str]:
        """Mint's final statuses (a journey in one never changes again)."""
        return FINAL_JOURNEY_STATUSES


# A listed journey that has run a step and whose execution log was never read, or has executed or changed status
# since (``Journey.history_executed_at``/``history_status``): the step-history job's work, in one partial index.
HISTORY_STALE: Final = Q(gone_at__isnull=True) & ~Q(status=JourneyStatus.IDLE) & (
    ~Q(history_status=F("status"))
    | Q(history_executed_at__lt=F("last_executed_at"))
    | Q(history_executed_at__isnull=True, last_executed_at__isnull=False)
)


class Journey(models.Model):
    """One journey as Mint's listing last described it, plus when the portal saw it."""

    id = models.CharField(primary_key=True, max_length=100)
    workflow_id = models.CharField(max_length=100)
    workflow_name = models.CharField(max_length=255, blank=True, default="")
    version = models.IntegerField()
    status = models.CharField(max_length=16, choices=JourneyStatus.choices)
    # Mint sets a journey's name from a workflow template, so it has no fixed bound (the sandbox allows 500):
    # the mirror keeps it whole.
    name = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(null=True, blank=True)
    last_executed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    faulted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    pending_steps = models.BooleanField(default=False)
    alerts = models.JSONField(default=list, blank=True)
    # The detail's step data (input and each step's data), for the list's business-data filters (0009_journey_data).
    data = models.JSONField(default=dict, db_default={}, blank=True)
    alert_count = models.PositiveIntegerField(default=0)
    # Highest alert severity as a number (severity_level: 0 none, 1 info, 2 warning, 3 critical) to sort on.
    alert_level = models.PositiveSmallIntegerField(default=0)
    # When the journey started waiting (status became active); null when it is not waiting.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # What the journey waits for is its ``waiting_steps`` (WaitingStep rows), known only from its detail; the
    # listing carries just ``pending_steps``. ``detail_seen_at`` is when the portal last read the detail.
    detail_seen_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField()
    # Set by a full reconcile when Mint's listing no longer shows the journey; cleared if it reappears.
    gone_at = models.DateTimeField(null=True, blank=True)
    # What ``last_executed_at`` and ``status`` were when the step-history job last read the journey's execution log
    # into its ``step_visits`` (journeys/services/step_history.py); only that job writes them. A journey whose
    # values differ from these has changed since, and is in the ``journey_history_stale`` index.
    history_executed_at = models.DateTimeField(null=True, blank=True)
    # Empty until the first read; a database default, since the listing upsert writes only listing columns.
    history_status = models.CharField(max_length=16, blank=True, default="", db_default="")
    # Set when the portal forgot the journey's data (its input, step data and the personal words of its name):
    # by retention after its workflow's days, or by an erasure request (compliance/). The mirror then keeps only
    # what lists and statistics need, and no later detail read brings the data back.
    data_removed_at = models.DateTimeField(null=True, blank=True)
    data_removed_by = models.CharField(max_length=16, blank=True, default="", db_default="",
                                       choices=[("retention", "retention"), ("erasure", "erasure")])

    class Meta:
        indexes = (
            models.Index(fields=["status", "-last_executed_at", "id"], name="journey_status_lastexec"),
            models.Index(fields=["workflow_id", "status", "-last_executed_at"], name="journey_wf_status_lastexec"),
            models.Index(fields=["-last_executed_at", "id"], name="journey_lastexec"),
            models.Index(fields=["-created_at", "id"], name="journey_created"),
            models.Index(fields=["status", "waiting_since"], name="journey_status_waiting"),
            # The sweep compares each status's rows, by creation time, with Mint's listing of that status.
            models.Index(fields=["status", "created_at"], name="journey_status_created"),
            # A workflow graph's step counts join one workflow's listed journeys to their waiting steps: the ids
            # come from this index alone (journeys.step_stats).
            models.Index(fields=["workflow_id", "id"], condition=models.Q(gone_at__isnull=True),
                         name="journey_wf_present"),
            # The journeys whose execution log the step-history job has yet to read: only rows that changed since
            # their last read are in it, so a run that finds none reads no table, and one that finds some sorts
            # only those (SQLite has no NULLS LAST in an index, so the order is the query's).
            models.Index(fields=["-last_executed_at", "id"], condition=HISTORY_STALE, name="journey_history_stale"),
            # The faulted ones among them, which the job reads first (users look for them): found without
            # walking a backlog of stale journeys that did not fault.
            models.Index(fields=["-last_executed_at", "id"], condition=HISTORY_STALE & Q(status=JourneyStatus.FAULTED),
                         name="journey_history_stale_faulted"),
        )

    def __str__(self) -> str:
        return self.name or self.id

    @property
    def is_final(self) -> bool:
        return self.status in JourneyStatus.final()


class WaitingStep(models.Model):
    """One step a journey waits on, as its detail last said (Mint's ``activeSteps``).

    The mirror refresh replaces a journey's rows on every read of its detail, and the listing sync deletes them
    once Mint lists the journey without pending steps. The inbox finds journeys by them with a join, e.g.
    ``Journey.objects.filter(waiting_steps__step_type=APPROVAL_STEP)``.
    """

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="waiting_steps")
    # Mint bounds neither in its reference, so the mirror keeps them whole.
    step_id = models.TextField()
    step_type = models.TextField()
    # The step's place in Mint's list, which is the order pages show them in.
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("journey", "position")
        indexes = (
            models.Index(fields=["step_type", "journey"], name="waiting_step_type_journey"),
            # "Waiting at step S" for one journey, and a workflow graph's waiting counts, which PostgreSQL reads in
            # journey order beside the journeys' own index (a merge join, no hash of either side).
            models.Index(fields=["journey", "step_id"], name="waiting_step_journey_step"),
        )

    def __str__(self) -> str:
        return f"{self.step_id} ({self.step_type})"


class Claim(models.Model):
    """Who holds a case: one person working one waiting step of a journey, by their own claim or assigned to them.

    At most one per journey (the unique key makes of two claims at once one owner). It ends, the row deleted,
    when the step stops waiting (the mirror refresh and the listing sync see to it) or when it is released.
    """

    journey = models.OneToOneField(Journey, on_delete=models.CASCADE, related_name="claim")
    # The waiting step the holder works on; the claim ends when this step no longer waits.
    step_id = models.TextField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Who made the claim: the holder themselves, or the person who assigned the case to them.
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField()

    class Meta:
        indexes = (models.Index(fields=["user", "claimed_at"], name="claim_user_claimed"),)

    def __str__(self) -> str:
        return f"{self.journey_id}/{self.step_id} held by user {self.user_id}"


class PersonalValue(models.Model):
    """One personal value a journey's data holds, as its keyed hash (``privacy.masking``): how an erasure
    request finds every journey that holds a value without the portal keeping the value. Written with the data
    by ``journeys.services.mirror`` and removed with it."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="personal_values")
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = (models.UniqueConstraint(fields=["hash", "journey"], name="personal_value_hash_journey"),)

    def __str__(self) -> str:
        return f"{self.journey_id} holds {self.hash[:12]}…"


class WebhookEvent(models.Model):
    """An event id already received from Mint, so that a repeated delivery is acknowledged and ignored."""

    id = models.CharField(primary_key=True, max_length=100)
    event_name = models.CharField(max_length=100)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.id


class StepVisit(models.Model):
    """One run of one step of a journey, as Mint's execution log last described it (journeys/services/step_history).

    A journey's rows are replaced whenever its log is read again; a step that runs more than once (a loop, a
    retried step) has one row per run, in the log's order (``position``). ``seconds`` is how long the visit took,
    kept so the median time in a step is one aggregate over an index on either database.
    """

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="step_visits")
    # The journey's workflow, copied so a workflow's step figures are read without a join.
    workflow_id = models.CharField(max_length=100)
    step_id = models.TextField()
    position = models.PositiveIntegerField()
    started_at = models.DateTimeField(null=True, blank=True)
    # Null while the step still runs or waits.
    ended_at = models.DateTimeField(null=True, blank=True)
    faulted = models.BooleanField(default=False)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("journey", "position")
        constraints = (
            models.UniqueConstraint(fields=["journey", "position"], name="step_visit_journey_position"),
        )
        indexes = (
            # The median reads one workflow's visits that ended in a window, grouped by step: every column it
            # needs is in the index, so PostgreSQL answers from the index alone.
            models.Index(fields=["workflow_id", "ended_at", "step_id", "seconds"], name="step_visit_wf_ended"),
            # "Faulted at step S" (journeys.selectors.faulted_step_visits) looks up a journey's faulted visits:
            # only those rows are in this index, so it stays small however many visits the logs hold.
            models.Index(fields=["journey", "step_id"], condition=Q(faulted=True), name="step_visit_faulted"),
        )

    def __str__(self) -> str:
        return f"{self.journey_id}/{self.step_id} #{self.position}"

