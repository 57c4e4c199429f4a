"""Access scopes for teams, approval policies for workflows, and the audit trail.

A team is a Django ``Group``; each ``Scope`` gives a team a set of actions on some workflows (listed by id,
or by tag, or all). A user's rights are the union of their teams' scopes; superusers may do everything.
An ``ApprovalPolicy`` sets the four-eyes rules of the workflows it matches for every approver, superusers
included: a scope only grants the right to approve, the policy decides how (``accounts.policy``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "View journeys and workflows"
    LAUNCH = "launch", "Launch journeys"
    CONTINUE = "continue", "Continue manual steps"
    APPROVE = "approve", "Approve or reject"
    ANNOTATE = "annotate", "Add and edit notes"
    SHARE = "share", "Create journey URLs"
    MANAGE = "manage", "Manage workflows and secrets"
    MANAGE_ACCESS = "manage_access", "Manage teams and scopes"
    AUDIT = "audit", "Read the audit trail"
    REVEAL = "reveal", "Reveal personal data (with a reason, audited)"
    ERASE = "erase", "Erase a person's data on request"


class Scope(models.Model):
    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="scopes")
    name = models.CharField(max_length=100)
    all_workflows = models.BooleanField(default=False, help_text="Covers every workflow, present and future.")
    workflow_ids = models.JSONField(default=list, blank=True, help_text="Workflow ids this scope covers.")
    workflow_tags = models.JSONField(default=list, blank=True, help_text="Workflows with any of these tags.")
    actions = models.JSONField(default=list, help_text="What members may do on these workflows.")

    class Meta:
        ordering = ["team__name", "name"]

    def __str__(self) -> str:
        return f"{self.team.name}: {self.name}"

    def clean(self) -> None:
        unknown = set(self.actions) - set(Action.values)
        if unknown:
            raise ValidationError({"actions": f"Unknown actions: {', '.join(sorted(unknown))}"})

    def covers(self, *, workflow_id: str, tags: frozenset[str] | set[str]) -> bool:
        return self.all_workflows or workflow_id in self.workflow_ids or bool(set(self.workflow_tags) & set(tags))


# The most distinct approvers a policy may ask for: beyond this a typo (20 for 2) would leave journeys
# waiting for approvers a team does not have.
MAX_REQUIRED_APPROVALS = 10
# A year: an SLA longer than that marks nothing overdue in practice and is most likely a typo.
MAX_SLA_HOURS = 24 * 366


class ApprovalPolicy(models.Model):
    """The four-eyes rules of the workflows it matches: one workflow id, one tag, or every workflow.

    It applies to every approver, superusers included; when several policies match a workflow the strictest
    wins (``accounts.policy.approval_rules``). ``approver_teams`` empty means any team whose scope grants
    approve; otherwise only members of those teams (whose own scope grants approve) may decide.
    """

    name = models.CharField(max_length=100)
    all_workflows = models.BooleanField(default=False, help_text="Applies to every workflow, present and future.")
    workflow_id = models.CharField(max_length=100, blank=True, default="", help_text="The one workflow it applies to.")
    workflow_tag = models.CharField(max_length=100, blank=True, default="",
                                    help_text="Applies to every workflow with this tag.")
    required_approvals = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_REQUIRED_APPROVALS)],
        help_text=f"Distinct approvers needed before Mint is told the journey is approved (1 to "
                  f"{MAX_REQUIRED_APPROVALS}).",
    )
    forbid_self_approval = models.BooleanField(
        default=True, help_text="The person who launched a journey may not approve it."
    )
    sla_hours = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_HOURS)],
        help_text="Approvals and manual steps waiting longer than this are marked overdue in the inbox.",
    )
    approver_teams = models.ManyToManyField(
        Group, blank=True, related_name="approval_policies",
        help_text="Only these teams may approve (their scope must grant approve too); none: any team that may.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "approval policies"
        constraints = [
            # Exactly one way of matching workflows (the admin form says which field is wrong first).
            models.CheckConstraint(
                condition=(
                    models.Q(all_workflows=True, workflow_id="", workflow_tag="")
                    | (models.Q(all_workflows=False, workflow_tag="") & ~models.Q(workflow_id=""))
                    | (models.Q(all_workflows=False, workflow_id="") & ~models.Q(workflow_tag=""))
                ),
                name="approval_policy_one_match",
            ),
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=1, required_approvals__lte=MAX_REQUIRED_APPROVALS),
                name="approval_policy_required_approvals_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def match_label(self) -> str:
        if self.all_workflows:
            return "every workflow"
        if self.workflow_id:
            return f"workflow {self.workflow_id}"
        return f"tag {self.workflow_tag}"

    def clean(self) -> None:
        kinds = sum([self.all_workflows, bool(self.workflow_id), bool(self.workflow_tag)])
        if kinds != 1:
            message = "Match exactly one of: every workflow, one workflow id, or one tag."
            field = "workflow_id" if kinds == 0 else ("all_workflows" if self.all_workflows else "workflow_tag")
            raise ValidationError({field: message})


class WorkflowRecord(models.Model):
    """What access decisions need to know about a Mint workflow (name, description, tags, latest version).

    Written by the workflow sync and by the portal's own workflow writes, so that a tag scope resolves to
    workflow ids without calling Mint. It lives here, with the scopes that read it, because access
    decisions sit below every app that shows workflows or journeys.
    """

    id = models.CharField(primary_key=True, max_length=100)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    version = models.IntegerField(default=0)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name or self.id


class AuditEvent(models.Model):
    """One write through the portal, appended to a hash chain (``accounts.audit_chain``).

    Rows are only ever inserted, by ``accounts.services.audit_record``: the database refuses UPDATE, DELETE
    and TRUNCATE on the table (triggers of migration 0005_audit_append_only), and no page offers a change.
    """

    class Outcome(models.TextChoices):
        OK = "ok", "Succeeded"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"
        UNKNOWN = "unknown", "Outcome unknown"

    at = models.DateTimeField(db_index=True)
    # No database constraint and nothing done on delete: deleting a user must not touch (UPDATE) their events,
    # which keep the user's id and username as they were. ``actor`` raises DoesNotExist for a deleted user.
    actor = models.ForeignKey(
        "auth.User", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OK)
    workflow_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    journey_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    summary = models.CharField(max_length=500, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    trace_id = models.CharField(max_length=100, blank=True, default="")
    # The hash of the event before this one (by id), and this event's own: see accounts.audit_chain.
    prev_hash = models.CharField(max_length=64, default="", editable=False)
    hash = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.outcome}"


class SignInThrottle(models.Model):
    """Recent failed sign-ins of one account (the username tried) or one client address, and its lockout.

    Written only by ``accounts.signin``: one row per account or address, updated under a row lock.
    """

    class Kind(models.TextChoices):
        ACCOUNT = "account", "Account"
        ADDRESS = "address", "Client address"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # A username as tried (existing or not), or an IPv4 address or IPv6 /64 network.
    key = models.CharField(max_length=150)
    # Failures in the current window, counting attempts whose password is still being checked.
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(null=True, blank=True)
    # Lockouts in a row; each doubles the next cool-off. A day without one, or a sign-in, starts again.
    lockouts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-locked_until", "kind", "key"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="signin_throttle_kind_key")]
        verbose_name = "sign-in lockout"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"


class Theme(models.TextChoices):
    SYSTEM = "system", "Follow the system"
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


class TimeDisplay(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute times"
    RELATIVE = "relative", "Relative times"


class UserPreference(models.Model):
    """One person's display choices, kept with their account so that they follow them to every browser."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="preference"
    )
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.SYSTEM)
    # An IANA zone name (accounts.preferences.valid_time_zone); empty: the browser's zone.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    time_display = models.CharField(max_length=8, choices=TimeDisplay.choices, default=TimeDisplay.ABSOLUTE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.theme})"
