"""Who may do what: the portal's access decisions, read from team scopes and approval policies.

Every view, export, download and task that touches a workflow or journey asks here. Journeys and
workflows outside a user's *view* scope are reported as absent (``NotVisible``, answered 404) so their
existence is not revealed; an action the user lacks on something they may see is refused (``NotAllowed``,
answered 403) with a plain message.

Approving is granted by a team's scope and governed by the workflow's approval policies: they set the
four-eyes rules for every approver, superusers included, and may name the only teams that approve there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, PermissionsMixin
from django.db.models import Q

from accounts.models import Action, ApprovalPolicy, Scope, WorkflowRecord
from mintportal.errors import NotAllowed, NotVisible

# Per-user-object memos; a user object lives for one request.
_SCOPES_ATTR = "_mintportal_scopes"
# Resolved access ({action: WorkflowAccess}).
_ACCESS_ATTR = "_mintportal_access"
_POLICIES_ATTR = "_mintportal_policies"
_TAGS_ATTR = "_mintportal_workflow_tags"
_TEAMS_ATTR = "_mintportal_team_ids"

REFUSALS: dict[str, str] = {
    Action.VIEW: "You may not view this.",
    Action.LAUNCH: "Your role does not allow launching journeys of this workflow.",
    Action.CONTINUE: "Your role does not allow continuing manual steps of this workflow.",
    Action.APPROVE: "Your role does not allow approving journeys of this workflow.",
    Action.ANNOTATE: "Your role does not allow adding or editing notes on this journey.",
    Action.SHARE: "Your role does not allow creating journey URLs for this workflow.",
    Action.MANAGE: "Your role does not allow managing this workflow or its secrets.",
    Action.MANAGE_ACCESS: "Your role does not allow managing teams and scopes.",
    Action.AUDIT: "Your role does not allow reading the audit trail.",
    Action.REVEAL: "Your role does not allow revealing personal data of this workflow.",
    Action.ERASE: "Your role does not allow erasing personal data.",
}


@dataclass(frozen=True)
class WorkflowAccess:
    """The workflows on which a user may take one action: every one (but ``excluded``), or a fixed set of ids.

    ``excluded`` is only ever set for approving: the workflows whose approval policy names approver teams
    that grant this user nothing there.
    """

    everything: bool
    workflow_ids: frozenset[str]
    excluded: frozenset[str] = frozenset()

    def allows(self, workflow_id: str) -> bool:
        if self.everything:
            return workflow_id not in self.excluded
        return workflow_id in self.workflow_ids

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.workflow_ids

    def q(self, field: str = "workflow_id") -> Q:
        """A filter for querysets whose rows carry a workflow id in ``field``."""
        if self.everything:
            return ~Q(**{f"{field}__in": sorted(self.excluded)}) if self.excluded else Q()
        return Q(**{f"{field}__in": sorted(self.workflow_ids)})


EVERYTHING = WorkflowAccess(everything=True, workflow_ids=frozenset())
NOTHING = WorkflowAccess(everything=False, workflow_ids=frozenset())


@dataclass(frozen=True)
class ApprovalRules:
    """The four-eyes rules and SLA of one workflow's approvals, the same for every approver.

    ``approver_team_ids`` None: any team whose scope grants approve may decide; otherwise only those teams.
    """

    forbid_self_approval: bool
    required_approvals: int
    sla_hours: int | None
    approver_team_ids: frozenset[int] | None = None


# With no policy matching a workflow: one approver, never the launcher, no SLA.
DEFAULT_APPROVAL_RULES = ApprovalRules(forbid_self_approval=True, required_approvals=1, sla_hours=None)


@dataclass(frozen=True)
class PolicyRule:
    """One ``ApprovalPolicy`` as access decisions read it, with its approver teams as (id, name) pairs."""

    pk: int
    name: str
    all_workflows: bool
    workflow_id: str
    workflow_tag: str
    required_approvals: int
    forbid_self_approval: bool
    sla_hours: int | None
    teams: tuple[tuple[int, str], ...] = ()

    @property
    def team_ids(self) -> frozenset[int]:
        return frozenset(team_id for team_id, _ in self.teams)

    @property
    def match_label(self) -> str:
        if self.all_workflows:
            return "every workflow"
        if self.workflow_id:
            return f"workflow {self.workflow_id}"
        return f"tag {self.workflow_tag}"

    def matches(self, *, workflow_id: str, tags: frozenset[str]) -> bool:
        if self.all_workflows:
            return True
        if self.workflow_id:
            return self.workflow_id == workflow_id
        return bool(self.workflow_tag) and self.workflow_tag in tags


@dataclass(frozen=True)
class WorkflowApprovalPolicy:
    """What the workflow page shows: the rules that apply, the policies they come from, who may approve."""

    rules: ApprovalRules
    policies: tuple[PolicyRule, ...]
    # Names of the teams that may approve; None when any team whose scope grants approve may.
    approver_teams: tuple[str, ...] | None


def user_scopes(user: AbstractBaseUser | AnonymousUser) -> list[Scope]:
    """The scopes of all the user's teams, read once per user object (so once per request)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, _SCOPES_ATTR, None)
    if cached is None:
        cached = list(Scope.objects.filter(team__user=user.pk).select_related("team"))
        setattr(user, _SCOPES_ATTR, cached)
    return cached


def _memo[T](user: AbstractBaseUser | AnonymousUser, attr: str, load: Callable[[], T]) -> T:
    """``load()`` once per user object (so once per request), kept on the object under ``attr``."""
    if not hasattr(user, attr):
        setattr(user, attr, load())
    return cast(T, getattr(user, attr))


def approval_policies(user: AbstractBaseUser | AnonymousUser) -> list[PolicyRule]:
    """Every approval policy with its approver teams: one query, once per user object (so once per request)."""
    return _memo(user, _POLICIES_ATTR, _load_policies)


def _load_policies() -> list[PolicyRule]:
    # One row per (policy, approver team), or one with no team: the policies and their teams in one query.
    rows = ApprovalPolicy.objects.order_by("name", "pk").values(
        "pk", "name", "all_workflows", "workflow_id", "workflow_tag", "required_approvals", "forbid_self_approval",
        "sla_hours", "approver_teams__pk", "approver_teams__name",
    )
    fields: dict[int, dict[str, Any]] = {}
    teams: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        values: dict[str, Any] = dict(row)
        team_id, team_name = values.pop("approver_teams__pk"), values.pop("approver_teams__name")
        fields.setdefault(row["pk"], values)
        if team_id is not None:
            teams.setdefault(row["pk"], []).append((team_id, team_name))
    return [PolicyRule(**values, teams=tuple(sorted(teams.get(pk, [])))) for pk, values in fields.items()]


def _tag_index(user: AbstractBaseUser | AnonymousUser) -> dict[str, frozenset[str]]:
    """Workflow id → tags of every mirrored workflow, read once per user object (so once per request)."""
    return _memo(user, _TAGS_ATTR, lambda: {
        workflow_id: frozenset(tags or [])
        for workflow_id, tags in WorkflowRecord.objects.values_list("id", "tags").iterator(chunk_size=2000)
    })


def _team_ids(user: AbstractBaseUser | AnonymousUser) -> frozenset[int]:
    """The ids of all the user's teams, those without scopes too (for a superuser and approver teams)."""
    return _memo(user, _TEAMS_ATTR, lambda: frozenset(Group.objects.filter(user=user.pk).values_list("pk", flat=True)))


def _is_superuser(user: AbstractBaseUser | AnonymousUser) -> bool:
    # The superuser flag comes with PermissionsMixin, which the portal's user model (auth.User) has.
    return isinstance(user, PermissionsMixin) and user.is_superuser


def user_can(*, user: AbstractBaseUser | AnonymousUser, action: str, workflow_id: str | None = None) -> bool:
    """Whether the user may take ``action`` on the workflow; without one, on at least one workflow.

    Without a workflow the answer comes from scopes alone (approval policies name workflows), so the
    navigation may offer "My work" to someone every policy happens to leave out.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if workflow_id is None:
        return _is_superuser(user) or any(action in scope.actions for scope in user_scopes(user))
    # Approving answers to the workflow's approval policy, a superuser's too.
    if _is_superuser(user) and action != Action.APPROVE:
        return True
    # Resolved once per user object and action, so a page checking many rows costs one query.
    return workflow_access(user=user, action=action).allows(workflow_id)


def workflow_access(*, user: AbstractBaseUser | AnonymousUser, action: str) -> WorkflowAccess:
    """Resolves the user's scopes for one action into workflow ids, tags included; for approving, less the
    workflows whose approval policy names approver teams that do not let this user approve there."""
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if _is_superuser(user) and action != Action.APPROVE:
        return EVERYTHING
    memo: dict[str, WorkflowAccess] = _memo(user, _ACCESS_ATTR, dict)
    if action not in memo:
        if action == Action.APPROVE:
            memo[action] = _approve_access(user)
        else:
            granting = [scope for scope in user_scopes(user) if action in scope.actions]
            memo[action] = _resolve_access(user, scopes=granting)
    return memo[action]


def _resolve_access(user: AbstractBaseUser | AnonymousUser, *, scopes: list[Scope]) -> WorkflowAccess:
    if any(scope.all_workflows for scope in scopes):
        return EVERYTHING
    ids = {workflow_id for scope in scopes for workflow_id in scope.workflow_ids}
    tags = {tag for scope in scopes for tag in scope.workflow_tags}
    if tags:
        ids.update(workflow_id for workflow_id, workflow_tags in _tag_index(user).items() if tags & workflow_tags)
    return WorkflowAccess(everything=False, workflow_ids=frozenset(ids))


def _approve_access(user: AbstractBaseUser | AnonymousUser) -> WorkflowAccess:
    """Where the user may approve: what each of their teams' scopes grants, less the workflows whose policies
    name approver teams without that team; a superuser is granted everything as every one of their teams,
    and as no team (which no team-naming policy lets approve)."""
    grants: dict[int | None, WorkflowAccess]
    if _is_superuser(user):
        grants = {None: EVERYTHING}
    else:
        by_team: dict[int, list[Scope]] = {}
        for scope in user_scopes(user):
            if Action.APPROVE in scope.actions:
                by_team.setdefault(scope.team_id, []).append(scope)
        if not by_team:
            return NOTHING
        grants = {team_id: _resolve_access(user, scopes=scopes) for team_id, scopes in by_team.items()}
    restricting = [policy for policy in approval_policies(user) if policy.teams]
    if not restricting:
        return _union(list(grants.values()))
    if _is_superuser(user):
        grants.update(dict.fromkeys(_team_ids(user), EVERYTHING))
    return _union([
        _without(user, grant, policies=[policy for policy in restricting if team_id not in policy.team_ids])
        for team_id, grant in grants.items()
    ])


def _without(user: AbstractBaseUser | AnonymousUser, access: WorkflowAccess, *,
             policies: list[PolicyRule]) -> WorkflowAccess:
    """``access`` less every workflow one of ``policies`` matches."""
    if not policies:
        return access
    if any(policy.all_workflows for policy in policies):
        return NOTHING
    excluded = {policy.workflow_id for policy in policies if policy.workflow_id}
    tags = {policy.workflow_tag for policy in policies if policy.workflow_tag}
    if tags:
        excluded.update(workflow_id for workflow_id, workflow_tags in _tag_index(user).items() if tags & workflow_tags)
    if access.everything:
        return WorkflowAccess(everything=True, workflow_ids=frozenset(), excluded=access.excluded | excluded)
    return WorkflowAccess(everything=False, workflow_ids=access.workflow_ids - excluded)


def _union(accesses: list[WorkflowAccess]) -> WorkflowAccess:
    finite = frozenset().union(*(access.workflow_ids for access in accesses if not access.everything))
    unbounded = [access.excluded for access in accesses if access.everything]
    if not unbounded:
        return WorkflowAccess(everything=False, workflow_ids=finite)
    return WorkflowAccess(everything=True, workflow_ids=frozenset(),
                          excluded=frozenset.intersection(*unbounded) - finite)


def matching_policies(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> list[PolicyRule]:
    """The approval policies that match the workflow: by its id, any of its tags (as mirrored), or all."""
    policies = approval_policies(user)
    tags = _tag_index(user).get(workflow_id, frozenset()) if any(p.workflow_tag for p in policies) else frozenset()
    return [policy for policy in policies if policy.matches(workflow_id=workflow_id, tags=tags)]


def strictest_rules(policies: list[PolicyRule]) -> ApprovalRules:
    """The rules of several policies together: the most approvals, self-approval forbidden if any forbids it,
    the shortest SLA, and only the teams named by every policy that names teams (none in common: nobody may
    approve). With no policy, ``DEFAULT_APPROVAL_RULES``."""
    if not policies:
        return DEFAULT_APPROVAL_RULES
    hours = [policy.sla_hours for policy in policies if policy.sla_hours]
    team_sets = [policy.team_ids for policy in policies if policy.teams]
    return ApprovalRules(
        forbid_self_approval=any(policy.forbid_self_approval for policy in policies),
        required_approvals=max(policy.required_approvals for policy in policies),
        sla_hours=min(hours) if hours else None,
        approver_team_ids=frozenset.intersection(*team_sets) if team_sets else None,
    )


def approval_rules(*, user: AbstractBaseUser, workflow_id: str) -> ApprovalRules:
    """The four-eyes rules of this workflow's approvals, from the approval policies that match it.

    The same for every approver, superusers included: a team's scope only grants the right to approve
    (``user_can``), it never changes the rules. ``user`` carries the per-request memo of the policies.
    """
    return strictest_rules(matching_policies(user=user, workflow_id=workflow_id))


def sla_hours_for(*, user: AbstractBaseUser, action: str, workflow_id: str) -> int | None:
    """The SLA in hours of the work ``action`` stands for (approving, continuing) on this workflow: the
    workflow's approval policy's, for both; None when no policy sets one."""
    return approval_rules(user=user, workflow_id=workflow_id).sla_hours


def workflow_approval_policy(*, user: AbstractBaseUser, workflow_id: str) -> WorkflowApprovalPolicy:
    """The approval policy that applies to the workflow, as its page shows it."""
    policies = matching_policies(user=user, workflow_id=workflow_id)
    rules = strictest_rules(policies)
    teams = None
    if rules.approver_team_ids is not None:
        names = {team_id: name for policy in policies for team_id, name in policy.teams}
        teams = tuple(sorted(names[team_id] for team_id in rules.approver_team_ids))
    return WorkflowApprovalPolicy(rules=rules, policies=tuple(policies), approver_teams=teams)


def ensure_can(*, user: AbstractBaseUser | AnonymousUser, action: str, workflow_id: str) -> None:
    """Raises ``NotVisible`` when the user may not even see the workflow, ``NotAllowed`` when they may see it
    but not take ``action``."""
    if not user_can(user=user, action=Action.VIEW, workflow_id=workflow_id):
        raise NotVisible("Not found")
    if action != Action.VIEW and not user_can(user=user, action=action, workflow_id=workflow_id):
        raise NotAllowed(REFUSALS.get(action, "You may not do this."))


def ensure_global(*, user: AbstractBaseUser | AnonymousUser, action: str) -> None:
    """For actions not tied to one workflow (managing access, reading the audit trail): raises ``NotAllowed``
    unless the user may take ``action`` on at least one workflow."""
    if not user_can(user=user, action=action):
        raise NotAllowed(REFUSALS.get(action, "You may not do this."))
