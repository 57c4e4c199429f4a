"""Who may do what: the portal's access decisions, read from team scopes.

Every view, export, download and task that touches a workflow or journey asks here. Journeys and
workflows outside a user's *view* scope are reported as absent (``NotVisible``, answered 404) so their
existence is not revealed; an action the user lacks on something they may see is refused (``NotAllowed``,
answered 403) with a plain message.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.db.models import Q

from accounts.models import Action, Scope, WorkflowRecord
from mintportal.errors import NotAllowed, NotVisible

_SCOPES_ATTR = "_mintportal_scopes"
# Per-user-object memo of resolved access ({action: WorkflowAccess}); a user object lives for one request.
_ACCESS_ATTR = "_mintportal_access"

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
}


@dataclass(frozen=True)
class WorkflowAccess:
    """The workflows on which a user may take one action: every one, or a fixed set of ids."""

    everything: bool
    workflow_ids: frozenset[str]

    def allows(self, workflow_id: str) -> bool:
        return self.everything or workflow_id in self.workflow_ids

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.workflow_ids

    def q(self, field: str = "workflow_id") -> Q:
        """A filter for querysets whose rows carry a workflow id in ``field``."""
        if self.everything:
            return Q()
        return Q(**{f"{field}__in": sorted(self.workflow_ids)})


@dataclass(frozen=True)
class ApprovalRules:
    """The four-eyes rules and SLA that apply when one user decides approvals of one workflow."""

    forbid_self_approval: bool
    required_approvals: int
    sla_hours: int | None


# When no scope states a rule (a superuser on a workflow no team covers), the safe rules apply.
DEFAULT_APPROVAL_RULES = ApprovalRules(forbid_self_approval=True, required_approvals=1, sla_hours=None)


def user_scopes(user: AbstractBaseUser | AnonymousUser) -> list[Scope]:
    """The scopes of all the user's teams, read once per user object (so once per request)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, _SCOPES_ATTR, None)
    if cached is None:
        cached = list(Scope.objects.filter(team__user=user.pk).select_related("team"))
        setattr(user, _SCOPES_ATTR, cached)
    return cached


def _is_superuser(user: AbstractBaseUser | AnonymousUser) -> bool:
    # The superuser flag comes with PermissionsMixin, which the portal's user model (auth.User) has.
    return isinstance(user, PermissionsMixin) and user.is_superuser


def _workflow_tags(workflow_id: str) -> frozenset[str]:
    tags = WorkflowRecord.objects.filter(pk=workflow_id).values_list("tags", flat=True).first()
    return frozenset(tags or [])


def scopes_covering(*, user: AbstractBaseUser, action: str, workflow_id: str) -> list[Scope]:
    """The user's scopes that grant ``action`` on this workflow (used for SLA and four-eyes rules)."""
    scopes = [scope for scope in user_scopes(user) if action in scope.actions]
    if not scopes:
        return []
    tags = _workflow_tags(workflow_id) if any(scope.workflow_tags for scope in scopes) else frozenset()
    return [scope for scope in scopes if scope.covers(workflow_id=workflow_id, tags=tags)]


def user_can(*, user: AbstractBaseUser | AnonymousUser, action: str, workflow_id: str | None = None) -> bool:
    """Whether the user may take ``action`` on the workflow; without one, on at least one workflow."""
    if not user.is_authenticated or not user.is_active:
        return False
    if _is_superuser(user):
        return True
    if workflow_id is None:
        return any(action in scope.actions for scope in user_scopes(user))
    # Resolved once per user object and action, so a page checking many rows costs one query.
    return workflow_access(user=user, action=action).allows(workflow_id)


def workflow_access(*, user: AbstractBaseUser | AnonymousUser, action: str) -> WorkflowAccess:
    """Resolves the user's scopes for one action into workflow ids, tags included."""
    if not user.is_authenticated or not user.is_active:
        return WorkflowAccess(everything=False, workflow_ids=frozenset())
    if _is_superuser(user):
        return WorkflowAccess(everything=True, workflow_ids=frozenset())
    memo: dict[str, WorkflowAccess] | None = getattr(user, _ACCESS_ATTR, None)
    if memo is None:
        memo = {}
        setattr(user, _ACCESS_ATTR, memo)
    if action not in memo:
        memo[action] = _resolve_access(scopes=[scope for scope in user_scopes(user) if action in scope.actions])
    return memo[action]


def _resolve_access(*, scopes: list[Scope]) -> WorkflowAccess:
    if any(scope.all_workflows for scope in scopes):
        return WorkflowAccess(everything=True, workflow_ids=frozenset())
    ids = {workflow_id for scope in scopes for workflow_id in scope.workflow_ids}
    tags = {tag for scope in scopes for tag in scope.workflow_tags}
    if tags:
        for workflow_id, workflow_tags in WorkflowRecord.objects.values_list("id", "tags").iterator(chunk_size=2000):
            if tags & set(workflow_tags or []):
                ids.add(workflow_id)
    return WorkflowAccess(everything=False, workflow_ids=frozenset(ids))


def approval_rules(*, user: AbstractBaseUser, workflow_id: str) -> ApprovalRules:
    """The four-eyes rules for this user deciding approvals of this workflow.

    The user's scopes that grant APPROVE on the workflow decide; when several do, the strictest applies
    (self-approval forbidden if any forbids it, the largest number of approvers, the shortest SLA). A
    superuser whose teams grant nothing there gets the strictest rules of any team's APPROVE scope on the
    workflow, so that being a superuser never bypasses a four-eyes rule; with none, the safe defaults.
    """
    scopes = scopes_covering(user=user, action=Action.APPROVE, workflow_id=workflow_id)
    if not scopes and _is_superuser(user):
        candidates = [scope for scope in Scope.objects.select_related("team") if Action.APPROVE in scope.actions]
        tags = _workflow_tags(workflow_id)
        scopes = [scope for scope in candidates if scope.covers(workflow_id=workflow_id, tags=tags)]
    if not scopes:
        return DEFAULT_APPROVAL_RULES
    return ApprovalRules(
        forbid_self_approval=any(scope.forbid_self_approval for scope in scopes),
        required_approvals=max(scope.required_approvals for scope in scopes),
        sla_hours=sla_hours(scopes),
    )


def sla_hours(scopes: list[Scope]) -> int | None:
    """The shortest SLA among ``scopes``, or None when none sets one."""
    hours = [scope.sla_hours for scope in scopes if scope.sla_hours]
    return min(hours) if hours else None


def sla_hours_for(*, user: AbstractBaseUser, action: str, workflow_id: str) -> int | None:
    """The SLA in hours of the work ``action`` stands for (approving, continuing) on this workflow, as it applies
    to ``user``; None when no rule sets one."""
    return sla_hours(scopes_covering(user=user, action=action, workflow_id=workflow_id))


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
