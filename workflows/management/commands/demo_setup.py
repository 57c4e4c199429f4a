"""``manage.py demo_setup``: the demo teams, their scopes, the approval policies and one user per persona
(idempotent).

Run by ``make run`` after migrations. Teams, scopes and policies are brought to the state below on every run;
users are created once (with the demo password) and added to their team, never reset afterwards. Then
the workflow mirror is synced once so that tag scopes resolve at once; if Mint cannot be reached yet,
the periodic workflow sync fills it in later. Prints nothing secret.

It lives in the workflows app, above accounts, because it uses both (the layer order in tests/test_boundaries.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings

from accounts.models import Action, ApprovalPolicy, Scope
from accounts.services import access_change_record
from mintportal.mint import errors
from workflows.sync import workflow_sync

DEMO_PASSWORD = "mintdemo"


@dataclass(frozen=True)
class ScopeSpec:
    name: str
    actions: tuple[str, ...]
    all_workflows: bool = False
    workflow_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicySpec:
    """An approval policy on one tag; it names no approver teams, so any team whose scope grants approve may."""

    name: str
    workflow_tag: str
    sla_hours: int | None = None
    forbid_self_approval: bool = True
    required_approvals: int = 1


@dataclass(frozen=True)
class TeamSpec:
    name: str
    scopes: tuple[ScopeSpec, ...]
    members: tuple[str, ...] = field(default_factory=tuple)
    staff: bool = False


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(
        "Case handlers",
        (ScopeSpec("All workflows", (Action.VIEW, Action.CONTINUE, Action.ANNOTATE, Action.SHARE),
                   all_workflows=True),),
        members=("handler",),
    ),
    TeamSpec(
        "Approvers",
        (
            ScopeSpec("Onboarding approvals", (Action.VIEW, Action.APPROVE), workflow_tags=("onboarding",)),
            ScopeSpec("Contract approvals", (Action.VIEW, Action.APPROVE), workflow_tags=("contracts",)),
        ),
        members=("approver", "approver2"),
    ),
    TeamSpec(
        "Operators",
        (ScopeSpec("All workflows", (Action.VIEW, Action.LAUNCH, Action.SHARE), all_workflows=True),),
        members=("operator",),
    ),
    TeamSpec(
        "Admins",
        (ScopeSpec("Everything", tuple(Action.values), all_workflows=True),),
        members=("admin",),
        staff=True,
    ),
)


# The four-eyes rules belong to the workflows (by tag), so they hold for every approver, the admin too:
# approver and approver2 finish a contract together, the admin alone records "1 of 2".
POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec("Onboarding approvals", "onboarding", sla_hours=24),
    PolicySpec("Contract approvals", "contracts", sla_hours=24, required_approvals=2, forbid_self_approval=True),
)


def _scope_fields(spec: ScopeSpec) -> dict[str, Any]:
    return {
        "all_workflows": spec.all_workflows, "workflow_ids": [], "workflow_tags": list(spec.workflow_tags),
        "actions": [str(action) for action in spec.actions],
    }


def _policy_fields(spec: PolicySpec) -> dict[str, Any]:
    return {
        "all_workflows": False, "workflow_id": "", "workflow_tag": spec.workflow_tag,
        "required_approvals": spec.required_approvals, "forbid_self_approval": spec.forbid_self_approval,
        "sla_hours": spec.sla_hours,
    }


class Command(BaseCommand):
    help = ("Creates the demo teams, scopes, approval policies and users (password 'mintdemo'), and mirrors the "
            "workflows.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-sync", action="store_true", help="Do not mirror the workflows from Mint.")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            for team_spec in TEAMS:
                self._team(team_spec)
            for policy_spec in POLICIES:
                self._policy(policy_spec)
        if not options["skip_sync"]:
            self._sync_workflows()

    def _team(self, spec: TeamSpec) -> None:
        team, created = Group.objects.get_or_create(name=spec.name)
        changed = created
        for scope_spec in spec.scopes:
            wanted = _scope_fields(scope_spec)
            scope, scope_created = Scope.objects.get_or_create(team=team, name=scope_spec.name, defaults=wanted)
            if scope_created:
                access_change_record(actor=None, target=scope, verb="create")
            elif any(getattr(scope, key) != value for key, value in wanted.items()):
                for key, value in wanted.items():
                    setattr(scope, key, value)
                scope.save()
                access_change_record(actor=None, target=scope, verb="update")
            else:
                continue
            changed = True
        if created:
            access_change_record(actor=None, target=team, verb="create")
        for username in spec.members:
            self._member(username, team=team, staff=spec.staff)
        self.stdout.write(f"Team {spec.name}: {'created' if changed else 'up to date'}")

    def _policy(self, spec: PolicySpec) -> None:
        wanted = _policy_fields(spec)
        policy, created = ApprovalPolicy.objects.get_or_create(name=spec.name, defaults=wanted)
        stale = any(getattr(policy, key) != value for key, value in wanted.items())
        teams = not created and policy.approver_teams.exists()
        if not (created or stale or teams):
            self.stdout.write(f"Approval policy {spec.name}: up to date")
            return
        for key, value in wanted.items():
            setattr(policy, key, value)
        policy.save()
        # The demo policies name no teams: whoever an approve scope covers decides under them.
        policy.approver_teams.clear()
        access_change_record(actor=None, target=policy, verb="create" if created else "update")
        self.stdout.write(f"Approval policy {spec.name}: {'created' if created else 'put back'}")

    def _member(self, username: str, *, team: Group, staff: bool) -> None:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": staff})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        joined = not user.groups.filter(pk=team.pk).exists()
        if joined:
            user.groups.add(team)
        promoted = staff and not user.is_staff
        if promoted:
            # The Django admin (teams, scopes, users) requires the staff flag besides the manage-access scope.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        if created or joined or promoted:
            access_change_record(actor=None, target=user, verb="create" if created else "update")
        if created:
            self.stdout.write(f"  user {username} created (password: the demo password)")

    def _sync_workflows(self) -> None:
        try:
            # One quick attempt: under `make run` the sandbox may not be serving yet, and the periodic
            # workflow sync catches up then; there is no point waiting through the client's retries.
            with override_settings(MINT_MAX_RETRIES=0):
                result = workflow_sync()
        except errors.MintError as exc:
            self.stdout.write(f"Workflows not mirrored yet (Mint unreachable: {type(exc).__name__}); "
                              "the periodic sync will do it.")
            return
        if result.skipped:
            self.stdout.write("Workflows: another sync is running.")
        else:
            self.stdout.write(f"Workflows mirrored: {result.upserted}")
