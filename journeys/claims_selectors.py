"""Reads for claims: who holds a journey's case, whom it may go to, and the guard an action asks first.

A claim (``journeys.models.Claim``) says that one person works one waiting step of a journey. Writes are in
``journeys/services/claims.py``; the rules both modules follow:

- A waiting step a person works is a ``suspend`` step (CONTINUE on the workflow) or a ``require-approval`` step
  (APPROVE); the holder and any assignee must be active and may view the journey and act on that step.
- Anyone who may act on the waiting step may take an unheld case ("Assign to me").
- Moving someone else's work needs MANAGE on the workflow (a team lead): taking over a case another person
  holds, assigning a case to someone else, releasing another person's claim. The holder may hand their own
  case to another eligible member or release it.
- A claim ends when its step stops waiting (the mirror deletes it, ``journeys.services.mirror``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Action, Scope, WorkflowRecord
from accounts.policy import user_can
from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Claim, Journey, JourneyStatus, WaitingStep
from mintportal.errors import Conflict

# The waiting steps a person works on, and the right each takes.
CLAIMABLE_ACTIONS: Final = {SUSPEND_STEP: Action.CONTINUE, APPROVAL_STEP: Action.APPROVE}
# What a person may not do, as the refusal of an assignee names it.
_CANNOT: Final = {
    Action.CONTINUE: "may not continue manual steps of this workflow",
    Action.APPROVE: "may not approve journeys of this workflow",
}

Viewer = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Member:
    """A person a case may be assigned to."""

    id: int
    username: str


@dataclass(frozen=True)
class ClaimPanel:
    """The claim region of a journey's page, as one user sees it."""

    journey_id: str
    # The holder (None when nobody holds the case), since when, and who assigned it to them.
    holder: str | None
    holder_id: int | None
    since: datetime | None
    assigned_by: str | None
    # The step held, else the step "Assign to me" would take ("" when none waits that the user may act on).
    step_id: str
    # A step waits on a person (a manual continuation or an approval).
    waiting: bool
    held_by_me: bool
    may_take: bool
    may_release: bool
    may_assign: bool
    assignees: tuple[Member, ...]

    @property
    def shown(self) -> bool:
        return self.waiting or self.holder is not None


def held_since(claim: Claim) -> str:
    """The claim's start as the refusals name it."""
    return timezone.localtime(claim.claimed_at).strftime("%Y-%m-%d %H:%M:%S %Z")


def claim_get(*, journey_id: str) -> Claim | None:
    """The journey's claim with its holder and assigner, or None when nobody holds the case."""
    return Claim.objects.select_related("user", "assigned_by").filter(journey_id=journey_id).first()


def claim_steps(*, journey_id: str) -> list[WaitingStep]:
    """The mirror's waiting steps of the journey that a person works on, in Mint's order."""
    return list(WaitingStep.objects.filter(journey_id=journey_id, step_type__in=list(CLAIMABLE_ACTIONS))
                .order_by("position"))


def step_refusal(*, username: str, step: WaitingStep) -> str:
    """Why ``username`` may not work ``step``, in words (for an assignee the policy does not allow)."""
    return f"{username} {_CANNOT[CLAIMABLE_ACTIONS[step.step_type]]}."


def claim_step_for(*, user: Viewer, workflow_id: str, steps: list[WaitingStep], step_id: str = ""
                   ) -> WaitingStep | None:
    """The step ``user`` would hold: ``step_id`` if given, else the first waiting step they may act on;
    None when they may act on none (or ``step_id`` is not among ``steps``)."""
    for step in steps:
        if step_id and step.step_id != step_id:
            continue
        if user_can(user=user, action=CLAIMABLE_ACTIONS[step.step_type], workflow_id=workflow_id):
            return step
    return None


def may_manage_claims(*, user: Viewer, workflow_id: str) -> bool:
    """Whether ``user`` may move other people's work on this workflow (take over, assign, release)."""
    return user_can(user=user, action=Action.MANAGE, workflow_id=workflow_id)


def claim_eligible_members(*, workflow_id: str, step_type: str) -> list[Member]:
    """Active people who may view the workflow's journeys and act on a waiting step of ``step_type``, by name.

    The same decision as ``accounts.policy.user_can`` for each of them, made for everyone at once: three
    queries (the scopes, the workflow's tags, the users) however many people there are.
    """
    action = CLAIMABLE_ACTIONS[step_type]
    scopes = [scope for scope in Scope.objects.all() if Action.VIEW in scope.actions or action in scope.actions]
    tags: frozenset[str] = frozenset()
    if any(scope.workflow_tags for scope in scopes):
        stored = WorkflowRecord.objects.filter(pk=workflow_id).values_list("tags", flat=True).first()
        tags = frozenset(stored or [])
    covering = [scope for scope in scopes if scope.covers(workflow_id=workflow_id, tags=tags)]
    viewing = {scope.team_id for scope in covering if Action.VIEW in scope.actions}
    acting = {scope.team_id for scope in covering if action in scope.actions}
    user_model = get_user_model()
    membership = user_model.groups.through

    def in_teams(team_ids: set[int]) -> Exists:
        return Exists(membership.objects.filter(user_id=OuterRef("pk"), group_id__in=sorted(team_ids)))

    people = user_model.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | (in_teams(viewing) & in_teams(acting))
    ).order_by("username").values_list("pk", "username")
    return [Member(id=pk, username=username) for pk, username in people]


def claim_panel(*, user: Viewer, journey_id: str) -> ClaimPanel:
    """The claim region for ``user`` from the mirror (no Mint call). The caller has checked that the user may
    view the journey; a journey the mirror does not know shows as waiting on nobody."""
    row = Journey.objects.filter(pk=journey_id).values_list("workflow_id", "status").first()
    claim = claim_get(journey_id=journey_id)
    steps = claim_steps(journey_id=journey_id) if row is not None and row[1] == JourneyStatus.ACTIVE else []
    workflow_id = row[0] if row is not None else ""
    manager = bool(row) and may_manage_claims(user=user, workflow_id=workflow_id)
    mine = claim is not None and claim.user_id == user.pk
    held = claim.step_id if claim is not None else ""
    own_step = claim_step_for(user=user, workflow_id=workflow_id, steps=steps, step_id=held)
    may_take = own_step is not None and not mine and (claim is None or manager)
    may_assign = bool(steps) and (manager or mine)
    assignees: dict[int, Member] = {}
    # A held case goes on with its step; an unheld one to whoever may act on any of its waiting steps.
    kinds = {step.step_type for step in steps if not held or step.step_id == held}
    for step_type in sorted(kinds) if may_assign else ():
        for member in claim_eligible_members(workflow_id=workflow_id, step_type=step_type):
            if claim is None or member.id != claim.user_id:
                assignees[member.id] = member
    return ClaimPanel(
        journey_id=journey_id,
        holder=claim.user.get_username() if claim is not None else None,
        holder_id=claim.user_id if claim is not None else None,
        since=claim.claimed_at if claim is not None else None,
        assigned_by=claim.assigned_by.get_username() if claim is not None and claim.assigned_by else None,
        step_id=held or (own_step.step_id if own_step is not None else ""),
        waiting=bool(steps),
        held_by_me=mine,
        may_take=may_take,
        may_release=claim is not None and (mine or manager),
        may_assign=may_assign,
        assignees=tuple(sorted(assignees.values(), key=lambda member: member.username)),
    )


def claim_guard(*, user: Viewer, journey_id: str, acknowledged: bool) -> None:
    """Raises ``Conflict`` when another person holds the journey's case and ``user`` has not confirmed that
    they act anyway (``acknowledged``). One query; acting on an unheld case or one's own never asks."""
    if acknowledged:
        return
    claim = Claim.objects.select_related("user").filter(journey_id=journey_id).first()
    if claim is not None and claim.user_id != user.pk:
        raise Conflict(f"This case is held by {claim.user.get_username()}; confirm to act anyway")
