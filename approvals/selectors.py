"""Reads for the "My work" inbox: journeys waiting on a person that the user may act on.

The inbox's tabs (``InboxFilters.assignment``, ``Assignment``) divide the journeys a user may act on:

- "" (all): the journeys with something left for the user to do: a manual step they may continue, or an approval
  they may decide and have not approved yet (in its open occurrence). "mine" (held by the user, see
  ``journeys.models.Claim``) and "unassigned" (held by nobody) are disjoint parts of it; the rest of it is held by
  other people.
- "others": the journeys whose only steps the user may act on are approvals they have already approved, which wait
  on further approvers. They leave every other tab and the navigation badge (``inbox_count``).

So "" and "others" together are every active journey in the user's scope that waits on a step they may act on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Action
from accounts.policy import approval_rules, sla_hours_for, user_can, workflow_access
from approvals.models import ApprovalVote, Decision
from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Claim, Journey, JourneyStatus, WaitingStep
from journeys.selectors import MIRROR_GENERATION, WORK_GENERATION
from launches.models import Launch
from mintportal.cache import cache_key, cached_json, generation
from privacy.masking import Masker, is_marker
from privacy.selectors import declarations_for

PAGE_SIZE: Final = 25
# Longest a team, scope or policy change takes to reach the navigation's count (see inbox_count_cached).
NAV_COUNT_TTL: Final = 30


class Kind:
    """What a waiting step needs from a person, and the right it takes."""

    APPROVAL: Final = "approval"
    CONTINUE: Final = "continue"
    CHOICES: Final = ((APPROVAL, "Approvals"), (CONTINUE, "Manual steps"))
    STEP_TYPES: Final = {APPROVAL: APPROVAL_STEP, CONTINUE: SUSPEND_STEP}
    ACTIONS: Final = {APPROVAL: Action.APPROVE, CONTINUE: Action.CONTINUE}


class Assignment:
    """The inbox's tabs: whose work a journey is, from the user's side (the module's docstring defines them)."""

    ALL: Final = ""
    MINE: Final = "mine"
    UNASSIGNED: Final = "unassigned"
    OTHERS: Final = "others"
    CHOICES: Final = ((ALL, "All"), (MINE, "Mine"), (UNASSIGNED, "Unassigned"), (OTHERS, "Waiting on others"))


@dataclass(frozen=True)
class InboxFilters:
    workflow_id: str = ""
    kind: str = ""
    # Which of the user's work: "" everything they may act on, "mine" assigned to them, "unassigned" held by
    # nobody, "others" approvals they have voted on that wait on further approvers (see Assignment).
    assignment: str = ""


@dataclass(frozen=True)
class InboxStep:
    """One step a journey waits on that the user may act on."""

    step_id: str
    kind: str
    # For approvals: the occurrence open for decision, and the approvals recorded for it so far.
    occurrence: int = 1
    approvers: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return "Approval" if self.kind == Kind.APPROVAL else "Manual continuation"


@dataclass(frozen=True)
class InboxRow:
    journey: Journey
    steps: tuple[InboxStep, ...]
    sla_hours: int | None
    overdue: bool
    # Who holds the case (a username), None when nobody does; and whether that is the user.
    holder: str | None = None
    held_by_me: bool = False
    # The journey's name with its personal values masked ("" when it has none): what the row shows.
    name: str = ""

    @property
    def waiting_since(self) -> datetime | None:
        return self.journey.waiting_since


class Step(Protocol):
    """A step a journey waits on: a mirror's ``WaitingStep`` row or a live journey's ``mint.ActiveStep``."""

    @property
    def step_id(self) -> str: ...

    @property
    def step_type(self) -> str: ...


def clear_leaves(data: Any) -> Any:
    """``data`` without its markers: the values it still holds in clear (a row written before its workflow's
    declaration), for a masker to know them. Markers must not be handed over as clear data, whose objects are
    walked leaf by leaf (a marker's own keys would pass for personal values)."""
    if is_marker(data):
        return None
    if isinstance(data, dict):
        return {key: clear_leaves(value) for key, value in data.items()}
    if isinstance(data, list):
        return [clear_leaves(value) for value in data]
    return data


def journey_maskers(*, journeys: Iterable[Journey]) -> dict[str, Masker]:
    """A masker per mirror row, by journey id, for what lists, mails and exports show of a journey: never revealed
    (a reveal counts on the journey's own page and its decision panel only). It knows the markers the row's data
    holds and, should a declared leaf still be in clear (a row written before its workflow's declaration), that
    value too. One query for the declarations of all the rows."""
    rows = list(journeys)
    declared = declarations_for({(row.workflow_id, row.version) for row in rows})
    return {row.id: Masker.for_data(row.data, fields=declared[(row.workflow_id, row.version)],
                                    clear=clear_leaves(row.data))
            for row in rows}


def journey_names_masked(*, journeys: Iterable[Journey]) -> dict[str, str]:
    """Each mirror row's name, by journey id, with its personal values masked (see ``journey_maskers``)."""
    rows = list(journeys)
    maskers = journey_maskers(journeys=rows)
    return {row.id: maskers[row.id].text(row.name) for row in rows}


def journey_launcher_id(*, journey_id: str) -> int | None:
    """The id of the user who launched the journey through the portal; None for journeys started elsewhere."""
    return Launch.objects.filter(journey_id=journey_id).values_list("created_by_id", flat=True).first()


def approval_occurrence(*, journey_id: str, step_id: str) -> int:
    """The occurrence of the step that is open for decision now: one more than those already decided."""
    return Decision.objects.filter(journey_id=journey_id, step_id=step_id, status=Decision.Status.SENT).count() + 1


def _approved_by(user: AbstractBaseUser) -> Exists:
    """For a WaitingStep row: the user has approved the step's open occurrence (one more than the decisions sent)."""
    sent = (Decision.objects.filter(journey_id=OuterRef(OuterRef("journey_id")), step_id=OuterRef(OuterRef("step_id")),
                                    status=Decision.Status.SENT)
            .order_by().values("journey_id").annotate(count=Count("pk")).values("count"))
    return Exists(ApprovalVote.objects.filter(
        journey_id=OuterRef("journey_id"), step_id=OuterRef("step_id"), user_id=user.pk,
        occurrence=Coalesce(Subquery(sent, output_field=IntegerField()), Value(0)) + 1,
    ))


@dataclass(frozen=True)
class _Work:
    """The conditions on a mirror row that sort the user's work: ``actionable`` (waits on a step of a kind the user
    may act on) and ``pending`` (of those, one still needs the user: "" tab; the rest is "others")."""

    actionable: Q
    pending: Q


def _work(*, user: AbstractBaseUser, kind: str) -> _Work:
    actionable = pending = Q(pk__in=[])
    for each in [kind] if kind in Kind.STEP_TYPES else list(Kind.STEP_TYPES):
        access = workflow_access(user=user, action=Kind.ACTIONS[each])
        if access.nothing:
            continue
        steps = WaitingStep.objects.filter(journey=OuterRef("pk"), step_type=Kind.STEP_TYPES[each])
        # Semi-joins, so a journey waiting on two such steps is still one row of the inbox.
        actionable |= Q(Exists(steps)) & access.q()
        if each == Kind.APPROVAL:
            pending |= Q(Exists(steps.filter(~Q(_approved_by(user))))) & access.q()
        else:
            pending |= Q(Exists(steps)) & access.q()
    return _Work(actionable=actionable, pending=pending)


def _held(*, user: AbstractBaseUser | None = None) -> Q:
    claims = Claim.objects.filter(journey=OuterRef("pk"))
    return Q(Exists(claims.filter(user_id=user.pk) if user is not None else claims))


def _in_scope(*, user: AbstractBaseUser, filters: InboxFilters) -> QuerySet[Journey]:
    view = workflow_access(user=user, action=Action.VIEW)
    journeys = Journey.objects.filter(status=JourneyStatus.ACTIVE, gone_at__isnull=True).filter(view.q())
    if filters.workflow_id:
        journeys = journeys.filter(workflow_id=filters.workflow_id)
    return journeys


def waiting_journeys(*, user: AbstractBaseUser, filters: InboxFilters) -> QuerySet[Journey]:
    """Active journeys in the user's view scope with a waiting step the user may act on, in the tab
    ``filters.assignment`` (the module's docstring; an unknown value is ""), longest waiting first."""
    work = _work(user=user, kind=filters.kind)
    tab = {
        Assignment.MINE: work.pending & _held(user=user),
        Assignment.UNASSIGNED: work.pending & ~_held(),
        Assignment.OTHERS: work.actionable & ~work.pending,
    }.get(filters.assignment, work.pending)
    journeys = _in_scope(user=user, filters=filters).filter(tab)
    return journeys.order_by(F("waiting_since").asc(nulls_last=True), "id")


def inbox_tab_counts(*, user: AbstractBaseUser, filters: InboxFilters | None = None) -> dict[str, int]:
    """How many journeys each tab holds ({"": …, "mine": …, "unassigned": …, "others": …}), under the workflow
    and kind of ``filters`` (its assignment ignored): one query."""
    filters = filters or InboxFilters()
    work = _work(user=user, kind=filters.kind)
    # Each condition is worked out once per row and the rows counted here: as filtered COUNTs in one aggregate,
    # PostgreSQL evaluated the approval condition (a semi-join over a correlated count) once per tab, 2 s for a
    # superuser with 5,000 journeys waiting (bench.inbox); this reads one small row per waiting journey instead.
    flags = _in_scope(user=user, filters=filters).filter(work.actionable).annotate(
        pending=ExpressionWrapper(work.pending, output_field=BooleanField()),
        held=ExpressionWrapper(_held(), output_field=BooleanField()),
        mine=ExpressionWrapper(_held(user=user), output_field=BooleanField()),
    ).order_by().values_list("pending", "held", "mine")
    counts = dict.fromkeys((Assignment.ALL, Assignment.MINE, Assignment.UNASSIGNED, Assignment.OTHERS), 0)
    for pending, held, mine in flags.iterator(chunk_size=2000):
        if not pending:
            counts[Assignment.OTHERS] += 1
            continue
        counts[Assignment.ALL] += 1
        counts[Assignment.MINE] += bool(mine)
        counts[Assignment.UNASSIGNED] += not held
    return counts


def journeys_needing_detail(*, user: AbstractBaseUser, filters: InboxFilters, limit: int) -> list[str]:
    """Ids of active journeys the user could act on whose mirrored waiting steps may be out of date.

    The listing Mint syncs from does not say which steps wait; only a journey's detail does. A row whose
    detail was never read, or was read before the journey last executed, may belong in the inbox (or no
    longer), so the inbox reads those details first, at most ``limit`` per view, longest waiting first.
    """
    view = workflow_access(user=user, action=Action.VIEW)
    acting = Q(pk__in=[])
    for action in Kind.ACTIONS.values():
        access = workflow_access(user=user, action=action)
        if not access.nothing:
            acting |= access.q()
    # Only journeys that wait on a step at all (the listing's pendingSteps) can wait on a person.
    journeys = Journey.objects.filter(
        status=JourneyStatus.ACTIVE, pending_steps=True, gone_at__isnull=True
    ).filter(view.q(), acting)
    if filters.workflow_id:
        journeys = journeys.filter(workflow_id=filters.workflow_id)
    stale = Q(detail_seen_at__isnull=True) | Q(detail_seen_at__lt=F("last_executed_at"))
    return list(
        journeys.filter(stale).order_by(F("waiting_since").asc(nulls_last=True), "id")
        .values_list("id", flat=True)[:limit]
    )


def _sent_counts(journey_ids: Iterable[str]) -> dict[tuple[str, str], int]:
    """(journey, step) → how many decisions of that step were sent to Mint (the open occurrence is one more)."""
    sent: dict[tuple[str, str], int] = {}
    decided = Decision.objects.filter(journey_id__in=list(journey_ids), status=Decision.Status.SENT)
    for journey_id, step_id in decided.values_list("journey_id", "step_id"):
        sent[(journey_id, step_id)] = sent.get((journey_id, step_id), 0) + 1
    return sent


def inbox_rows(*, user: AbstractBaseUser, journeys: Iterable[Journey], kind: str = "") -> list[InboxRow]:
    """Describes each journey's actionable waiting steps, approvals so far, SLA and overdue state."""
    journeys = list(journeys)
    prefetch_related_objects(journeys, "waiting_steps")
    ids = [journey.id for journey in journeys]
    holders = {journey_id: (user_id, username) for journey_id, user_id, username
               in Claim.objects.filter(journey_id__in=ids).values_list("journey_id", "user_id", "user__username")}
    sent = _sent_counts(ids)
    votes: dict[tuple[str, str, int], list[str]] = {}
    for vote in ApprovalVote.objects.filter(journey_id__in=ids).order_by("at", "id"):
        votes.setdefault((vote.journey_id, vote.step_id, vote.occurrence), []).append(vote.username)
    allowed = {k: workflow_access(user=user, action=action) for k, action in Kind.ACTIONS.items()}
    sla_cache: dict[tuple[str, str], int | None] = {}
    names = journey_names_masked(journeys=journeys)
    now = timezone.now()
    rows = []
    for journey in journeys:
        steps = []
        for waiting in journey.waiting_steps.all():
            for step_kind, wanted in Kind.STEP_TYPES.items():
                if waiting.step_type != wanted or (kind and kind != step_kind):
                    continue
                if not allowed[step_kind].allows(journey.workflow_id):
                    continue
                occurrence = sent.get((journey.id, waiting.step_id), 0) + 1
                steps.append(InboxStep(
                    step_id=waiting.step_id, kind=step_kind, occurrence=occurrence,
                    approvers=tuple(votes.get((journey.id, waiting.step_id, occurrence), ())),
                ))
        if not steps:
            continue
        hours = _row_sla(user=user, journey=journey, kinds={step.kind for step in steps}, cache=sla_cache)
        overdue = bool(hours and journey.waiting_since and now - journey.waiting_since > timedelta(hours=hours))
        rows.append(InboxRow(journey=journey, steps=tuple(steps), sla_hours=hours, overdue=overdue,
                             holder=holders[journey.id][1] if journey.id in holders else None,
                             held_by_me=journey.id in holders and holders[journey.id][0] == user.pk,
                             name=names[journey.id]))
    return rows


def _row_sla(
    *, user: AbstractBaseUser, journey: Journey, kinds: set[str], cache: dict[tuple[str, str], int | None]
) -> int | None:
    """The SLA of this journey's waiting steps the user may act on: the shortest their workflow's approval policies
    set (``accounts.policy.sla_hours_for``), None when none sets one."""
    hours: list[int] = []
    for kind in kinds:
        key = (journey.workflow_id, kind)
        if key not in cache:
            cache[key] = sla_hours_for(user=user, action=Kind.ACTIONS[kind], workflow_id=journey.workflow_id)
        if limit := cache[key]:
            hours.append(limit)
    return min(hours) if hours else None


def inbox_page(
    *, user: AbstractBaseUser, filters: InboxFilters, page_number: int | str | None
) -> tuple[Page, list[InboxRow]]:
    """One page of the inbox: the paginator page over mirror rows, and the rows described for display."""
    page = Paginator(waiting_journeys(user=user, filters=filters), PAGE_SIZE).get_page(page_number)
    return page, inbox_rows(user=user, journeys=page.object_list, kind=filters.kind)


def inbox_count(*, user: AbstractBaseUser) -> int:
    """How many journeys wait on the user (for the navigation badge): the "" tab, so without "others"."""
    return waiting_journeys(user=user, filters=InboxFilters()).count()


def inbox_count_cached(*, user: AbstractBaseUser) -> int:
    """``inbox_count`` as the navigation shows it on every page: cached per user until the mirror or the waiting
    work (steps, claims, votes, decisions) changes, so a page served from cache stays free of the mirror. A change
    of teams, scopes or approval policies shows within ``NAV_COUNT_TTL`` seconds; the inbox itself is always
    exact."""
    key = cache_key("approvals", "nav-count", generation(MIRROR_GENERATION), generation(WORK_GENERATION),
                    str(user.pk))
    return int(cached_json(key, ttl=NAV_COUNT_TTL, load=lambda: inbox_count(user=user)))


@dataclass(frozen=True)
class ApprovalPanel:
    """One approval step a journey waits on, as the decision form shows it to one user."""

    journey_id: str
    step_id: str
    occurrence: int
    approvers: tuple[str, ...]
    required: int
    user_approved: bool
    launched_by_user: bool
    forbid_self_approval: bool

    @property
    def may_approve(self) -> bool:
        return not self.user_approved and not (self.forbid_self_approval and self.launched_by_user)


def approval_step_ids(active_steps: Iterable[Step]) -> list[str]:
    """The ids of waiting ``require-approval`` steps, from a live journey's or a mirror row's waiting steps."""
    return [step.step_id for step in active_steps if step.step_type == APPROVAL_STEP]


def approval_panels(
    *, user: AbstractBaseUser, journey_id: str, workflow_id: str, active_steps: Iterable[Step]
) -> list[ApprovalPanel]:
    """The decision forms a user may see for a journey: one per waiting approval step, if they may approve.

    Empty when the user lacks APPROVE on the workflow, so a page can include it unconditionally.
    """
    step_ids = approval_step_ids(active_steps)
    if not step_ids or not user_can(user=user, action=Action.APPROVE, workflow_id=workflow_id):
        return []
    rules = approval_rules(user=user, workflow_id=workflow_id)
    launcher = journey_launcher_id(journey_id=journey_id)
    sent = _sent_counts([journey_id])
    panels = []
    for step_id in step_ids:
        occurrence = sent.get((journey_id, step_id), 0) + 1
        voters = list(
            ApprovalVote.objects.filter(journey_id=journey_id, step_id=step_id, occurrence=occurrence)
            .order_by("at", "id").values_list("user_id", "username")
        )
        panels.append(ApprovalPanel(
            journey_id=journey_id, step_id=step_id, occurrence=occurrence,
            approvers=tuple(name for _, name in voters), required=rules.required_approvals,
            user_approved=any(user_id == user.pk for user_id, _ in voters),
            launched_by_user=launcher is not None and launcher == user.pk,
            forbid_self_approval=rules.forbid_self_approval,
        ))
    return panels
