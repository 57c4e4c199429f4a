"""Reads for bulk actions: which journeys a selection names, what the dry run says of each, and the jobs' progress.

The dry run's checks (``bulk_check``) have no side effects and ask the same questions, from the mirror and the
portal's own records, as the single-journey services the execution calls (``approvals.services.approval_decide``,
``journeys.services.actions``, ``journeys.services.claims``, ``journeys.services.notes``) and the views in front of
them (``claim_guard``). Those services check again against Mint when they act, so a journey whose state changed
between the dry run and the execution is refused then, with the service's reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import batched
from typing import Any, Final

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q
from django.http import QueryDict

from accounts.models import Action
from accounts.policy import REFUSALS, user_can
from approvals.models import Decision
from approvals.selectors import approval_panels, journey_maskers, journey_names_masked
from approvals.services import AlreadyDecided
from bulk.models import BulkAction, BulkItem, BulkJob, ItemStatus, JobStatus, Verdict
from journeys.claims_selectors import claim_guard, claim_panel
from journeys.forms import JourneyFilterForm
from journeys.models import SUSPEND_STEP, Journey, JourneyStatus
from journeys.selectors import (
    interactive_step_types,
    journey_queryset,
    journey_workflow_choices,
    journey_workflow_visible,
)
from mintportal.errors import Conflict, NotVisible, Refused
from mintportal.mint import errors
from privacy.masking import Masker
from workflows.selectors import step_form_get, workflow_get
from workflows.stepforms import FormField, clean_answers

# The most journeys one bulk action may touch; a larger selection is refused before anything starts.
MAX_JOURNEYS: Final = 10_000
JOURNEY_ID_MAX: Final = 100
NOT_VISIBLE: Final = "Not found, or outside your scope."
# Each action and the right it takes on a journey's workflow.
RIGHTS: Final[dict[str, str]] = {
    BulkAction.APPROVE: Action.APPROVE, BulkAction.REJECT: Action.APPROVE, BulkAction.CONTINUE: Action.CONTINUE,
    BulkAction.URL: Action.SHARE, BulkAction.NOTE: Action.ANNOTATE,
}


@dataclass(frozen=True)
class Selection:
    """The journeys a bulk action names, in the order chosen (ids, unique), and how they were chosen."""

    journey_ids: tuple[str, ...]
    description: str
    # The query string that chose them, for the dry-run form to carry on (journey ids or the list's filters).
    query: str


def _filter_form(*, user: AbstractBaseUser, query: QueryDict) -> JourneyFilterForm:
    # Exactly as the journeys list reads its filters (journeys.views._filter_form).
    form = JourneyFilterForm(
        query,
        workflow_choices=journey_workflow_choices(user=user),
        workflow_known=lambda workflow_id: journey_workflow_visible(user=user, workflow_id=workflow_id),
    )
    form.is_valid()
    return form


def _too_many(count_text: str) -> Refused:
    return Refused(f"A bulk action may touch at most {MAX_JOURNEYS:,} journeys; this selection has {count_text}. "
                   "Narrow the filters and try again.")


def bulk_selection(*, user: AbstractBaseUser, query: QueryDict) -> Selection:
    """The journeys named by a request's query: repeated ``journey=<id>`` (rows ticked), or ``all=1`` with the
    journeys list's own filters (every journey matching them that the user may view, in the list's order).

    Raises ``Refused`` (400) for an empty selection, one over ``MAX_JOURNEYS`` (nothing is read beyond the first
    journey past the limit), a journey id longer than Mint's, or filters the list refuses: a bulk action must be
    exactly what the user asked for, so an invalid filter is never quietly dropped.
    """
    if query.get("all") == "1":
        form = _filter_form(user=user, query=query)
        if form.errors:
            problems = "; ".join(f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items())
            raise Refused(f"Invalid filters: {problems}")
        ids = list(journey_queryset(user=user, filters=form.filters()).values_list("id", flat=True)[:MAX_JOURNEYS + 1])
        if len(ids) > MAX_JOURNEYS:
            raise _too_many(f"more than {MAX_JOURNEYS:,}")
        kept = QueryDict(mutable=True)
        for name, values in query.lists():
            if name in form.fields or name in ("all", "data", "step"):
                kept.setlist(name, values)
        kept.pop("page", None)
        kept.pop("per_page", None)
        description = f"All {len(ids):,} journeys matching the list's filters"
        selection_query = kept.urlencode()
    else:
        raw = [value.strip() for value in query.getlist("journey") if value.strip()]
        if any(len(value) > JOURNEY_ID_MAX for value in raw):
            raise Refused(f"A journey id has at most {JOURNEY_ID_MAX} characters.")
        ids = list(dict.fromkeys(raw))
        if len(ids) > MAX_JOURNEYS:
            raise _too_many(f"{len(ids):,}")
        description = f"{len(ids):,} selected journey{'s' if len(ids) != 1 else ''}"
        selection = QueryDict(mutable=True)
        selection.setlist("journey", ids)
        selection_query = selection.urlencode()
    if not ids:
        raise Refused("Select at least one journey.")
    return Selection(journey_ids=tuple(ids), description=description, query=selection_query)


def bulk_selection_workflows(*, selection: Selection) -> list[str]:
    """The workflows a selection's journeys belong to (the selection holds only journeys the user may view), for the
    action form to offer what the user may do on at least one of them."""
    return list(Journey.objects.filter(id__in=selection.journey_ids).values_list("workflow_id", flat=True).distinct())


# --- the dry run --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """The dry run's verdict on one journey: ``refusal`` "" means the action will act (on ``step_id``)."""

    step_id: str = ""
    refusal: str = ""

    @property
    def verdict(self) -> str:
        return Verdict.REFUSED if self.refusal else Verdict.WILL_ACT


@dataclass
class CheckContext:
    """What the checks of one dry run share: the step forms read so far, by (workflow, version)."""

    forms: dict[tuple[str, int], Any] = field(default_factory=dict)


def _claimed_by_other(*, user: AbstractBaseUser, journey_id: str) -> str:
    """The refusal when another person holds the case (what the single-journey pages ask to confirm), else ""."""
    try:
        claim_guard(user=user, journey_id=journey_id, acknowledged=False)
    except Conflict as exc:
        return f"Claimed by someone else: {exc.message.removesuffix('; confirm to act anyway')}."
    return ""


def _check_decision(*, user: AbstractBaseUser, journey: Journey, approved: bool) -> Check:
    if journey.status != JourneyStatus.ACTIVE:
        return Check(refusal=f"Not waiting: the journey is {journey.status}.")
    panels = approval_panels(user=user, journey_id=journey.id, workflow_id=journey.workflow_id,
                             active_steps=journey.waiting_steps.all())
    if not panels:
        return Check(refusal="Not waiting for an approval.")
    panel = panels[0]
    decided = Decision.objects.filter(journey_id=journey.id, step_id=panel.step_id,
                                      occurrence=panel.occurrence).first()
    if decided is not None:
        return Check(step_id=panel.step_id, refusal=AlreadyDecided.of(decided).message)
    if claimed := _claimed_by_other(user=user, journey_id=journey.id):
        return Check(step_id=panel.step_id, refusal=claimed)
    if approved and panel.forbid_self_approval and panel.launched_by_user:
        return Check(step_id=panel.step_id, refusal="Your own launch: another approver must approve it.")
    if approved and panel.user_approved:
        return Check(step_id=panel.step_id, refusal=(
            f"Already approved by you ({len(panel.approvers)} of {panel.required}); it waits for more approvers."))
    return Check(step_id=panel.step_id)


def _form_fields(*, journey: Journey, step_id: str, context: CheckContext) -> Any:
    key = (journey.workflow_id, journey.version)
    if key not in context.forms:
        try:
            workflow = workflow_get(workflow_id=journey.workflow_id, version=journey.version)
            context.forms[key] = step_form_get(workflow=workflow, step_id=step_id).fields
        except errors.MintError:
            context.forms[key] = None
    return context.forms[key]


def _check_continue(*, user: AbstractBaseUser, journey: Journey, params: Mapping[str, Any],
                    context: CheckContext) -> Check:
    step_id = str(params.get("step_id") or "")
    if journey.status != JourneyStatus.ACTIVE:
        return Check(refusal=f"Not waiting: the journey is {journey.status}.")
    waiting = {step.step_id: step.step_type for step in journey.waiting_steps.all()}
    if step_id not in waiting:
        return Check(refusal=f"Not waiting at step “{step_id}”.")
    if waiting[step_id] != SUSPEND_STEP:
        return Check(refusal=f"Step “{step_id}” ({waiting[step_id]}) is not a manual step.")
    if claimed := _claimed_by_other(user=user, journey_id=journey.id):
        return Check(step_id=step_id, refusal=claimed)
    fields = _form_fields(journey=journey, step_id=step_id, context=context)
    if fields is None:
        return Check(step_id=step_id, refusal="Mint could not give this journey's workflow version to check the "
                                              "answers against.")
    checked = clean_answers(fields, params.get("answers") or {}, allow_unknown=False)
    if not checked.valid:
        problems = list(checked.errors.values()) + [f"Its form does not ask for “{key}”." for key in checked.unknown]
        return Check(step_id=step_id, refusal="The answers do not fit this journey's form: " + " ".join(problems))
    return Check(step_id=step_id)


def _check_assign(*, user: AbstractBaseUser, journey: Journey, params: Mapping[str, Any]) -> Check:
    assignee_id = params.get("assignee_id")
    assignee_name = str(params.get("assignee") or assignee_id)
    panel = claim_panel(user=user, journey_id=journey.id)
    if not panel.waiting:
        return Check(refusal="Waits on nobody: no manual step or approval of it waits.")
    if panel.holder_id == assignee_id:
        return Check(step_id=panel.step_id, refusal=f"Already held by {panel.holder}.")
    if assignee_id == user.pk:
        if panel.may_take:
            return Check(step_id=panel.step_id)
        if panel.holder is not None:
            return Check(refusal=f"Claimed by someone else: held by {panel.holder}.")
        return Check(refusal="You may not act on the step it waits at.")
    if not panel.may_assign:
        return Check(refusal="Only the case's holder or a manager of the workflow may assign it"
                             + (f" (held by {panel.holder})." if panel.holder else "."))
    if all(member.id != assignee_id for member in panel.assignees):
        return Check(refusal=f"{assignee_name} may not act on the step it waits at.")
    return Check(step_id=panel.step_id)


def _check_url(*, journey: Journey) -> Check:
    if journey.is_final:
        return Check(refusal=f"The journey has ended ({journey.status}); a new link would show the end user nothing.")
    if journey.status == JourneyStatus.IDLE:
        return Check()
    interactive = interactive_step_types()
    if not any(step.step_type in interactive for step in journey.waiting_steps.all()):
        return Check(refusal="No step of it waits on the end user; a link would show them nothing to do.")
    return Check()


def bulk_check(*, user: AbstractBaseUser, action: str, params: Mapping[str, Any], journey: Journey | None,
               context: CheckContext | None = None) -> Check:
    """Whether ``action`` with ``params`` will act on ``journey`` (its mirror row, None when the portal does not
    know it) as ``user``, and else why not. No side effects; see the module's docstring."""
    context = context or CheckContext()
    if journey is None or journey.gone_at is not None or not user_can(user=user, action=Action.VIEW,
                                                                          workflow_id=journey.workflow_id):
        return Check(refusal=NOT_VISIBLE)
    right = RIGHTS.get(action)
    if right is not None and not user_can(user=user, action=right, workflow_id=journey.workflow_id):
        return Check(refusal=REFUSALS[right])
    if action in (BulkAction.APPROVE, BulkAction.REJECT):
        return _check_decision(user=user, journey=journey, approved=action == BulkAction.APPROVE)
    if action == BulkAction.CONTINUE:
        return _check_continue(user=user, journey=journey, params=params, context=context)
    if action == BulkAction.ASSIGN:
        return _check_assign(user=user, journey=journey, params=params)
    if action == BulkAction.URL:
        return _check_url(journey=journey)
    return Check()


@dataclass(frozen=True)
class DryRun:
    """The dry run of one journey: its id, its mirror row (None when the portal does not know it), the verdict, and
    its name as bulk pages and results show it: masked, and "" for a journey the user may not view."""

    journey_id: str
    row: Journey | None
    check: Check
    name: str = ""


def bulk_dry_run(*, user: AbstractBaseUser, action: str, params: Mapping[str, Any], journey_ids: Iterable[str]
                 ) -> Iterator[DryRun]:
    """Each journey id with its mirror row, the dry run's verdict and its masked name, in order. Reads rows in
    batches."""
    ids = list(journey_ids)
    context = CheckContext()
    for start in range(0, len(ids), 500):
        batch = ids[start:start + 500]
        rows = {row.id: row for row in Journey.objects.filter(pk__in=batch).prefetch_related("waiting_steps")}
        names = journey_names_masked(journeys=rows.values())
        for journey_id in batch:
            row = rows.get(journey_id)
            check = bulk_check(user=user, action=action, params=params, journey=row, context=context)
            visible = row is not None and check.refusal != NOT_VISIBLE
            yield DryRun(journey_id=journey_id, row=row, check=check, name=names[journey_id] if visible else "")


# --- jobs ---------------------------------------------------------------------------------------------------


def bulk_job_get(*, user: AbstractBaseUser, job_id: Any) -> BulkJob:
    """The job, for its creator or someone who manages access; ``NotVisible`` for anyone else (not revealed)."""
    job = BulkJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or (job.created_by_id != user.pk and not user_can(user=user, action=Action.MANAGE_ACCESS)):
        raise NotVisible("No such bulk action.")
    return job


@dataclass(frozen=True)
class Progress:
    total: int
    checking: int
    will_act: int
    refused_dry: int
    done: int
    refused: int
    failed: int
    unknown: int
    remaining: int

    @property
    def finished(self) -> bool:
        return self.remaining == 0

    @property
    def checked_percent(self) -> int:
        return 100 if not self.total else int((self.total - self.checking) * 100 / self.total)

    @property
    def percent(self) -> int:
        acted = self.will_act - self.remaining
        return 100 if not self.will_act else int(acted * 100 / self.will_act)


def bulk_job_progress(*, job: BulkJob) -> Progress:
    """How far the job has got (one query)."""
    counts = BulkItem.objects.filter(job=job).aggregate(
        total=Count("pk"),
        checking=Count("pk", filter=Q(verdict=Verdict.CHECKING)),
        will_act=Count("pk", filter=Q(verdict=Verdict.WILL_ACT)),
        done=Count("pk", filter=Q(status=ItemStatus.DONE)),
        refused=Count("pk", filter=Q(status=ItemStatus.REFUSED)),
        failed=Count("pk", filter=Q(status=ItemStatus.FAILED)),
        unknown=Count("pk", filter=Q(status=ItemStatus.UNKNOWN)),
        remaining=Count("pk", filter=Q(status__in=[ItemStatus.PENDING, ItemStatus.RUNNING, ItemStatus.RECHECK])),
    )
    if job.status in (JobStatus.CHECKING, JobStatus.DRAFT):
        counts["remaining"] = counts["will_act"]
    return Progress(refused_dry=counts["total"] - counts["will_act"] - counts["checking"], **counts)


@dataclass(frozen=True)
class ItemRow:
    """One item of a job as its page and its results show it: the name, the dry run's reason and the outcome with
    the journey's personal values masked (items written before masking kept the name as the mirror had it)."""

    journey_id: str
    journey_name: str
    workflow_id: str
    step_id: str
    verdict: str
    reason: str
    status: str
    outcome: str
    journey_url: str
    expires_at: Any

    @property
    def status_label(self) -> str:
        return ItemStatus(self.status).label if self.status in ItemStatus.values else self.status


_ITEM_FIELDS: Final = ("journey_id", "journey_name", "workflow_id", "step_id", "verdict", "reason", "status", "outcome",
                       "journey_url", "expires_at")


def _masked(values: list[tuple[Any, ...]]) -> list[ItemRow]:
    """Items (values in ``_ITEM_FIELDS`` order) with each journey's texts masked by its mirror row's masker; a
    journey the mirror no longer has is masked by format alone."""
    rows = Journey.objects.filter(pk__in={value[0] for value in values}).only(
        "id", "workflow_id", "version", "name", "data")
    maskers = journey_maskers(journeys=rows)
    shown = []
    for value in values:
        item = ItemRow(*value)
        masker = maskers.get(item.journey_id) or Masker()
        shown.append(replace(item, journey_name=masker.text(item.journey_name), reason=masker.text(item.reason),
                             outcome=masker.text(item.outcome)))
    return shown


def bulk_job_items(*, job: BulkJob, verdict: str = "", offset: int = 0, limit: int = 100) -> list[ItemRow]:
    items = BulkItem.objects.filter(job=job)
    if verdict:
        items = items.filter(verdict=verdict)
    return _masked(list(items.order_by("position").values_list(*_ITEM_FIELDS)[offset:offset + limit]))


def bulk_job_item_count(*, job: BulkJob, verdict: str = "") -> int:
    items = BulkItem.objects.filter(job=job)
    return items.filter(verdict=verdict).count() if verdict else items.count()


RESULT_COLUMNS: Final = ("journey_id", "name", "verdict", "status", "outcome", "journey_url", "expires_at")
# Items masked together in the results CSV: one read of their mirror rows and declarations per block.
RESULT_BLOCK: Final = 1000


def bulk_job_results(*, job: BulkJob) -> Iterator[list[Any]]:
    """The results CSV's rows, in selection order (streamed), masked as the job's page shows them."""
    items = BulkItem.objects.filter(job=job).order_by("position").values_list(*_ITEM_FIELDS)
    for block in batched(items.iterator(chunk_size=RESULT_BLOCK), RESULT_BLOCK):
        for item in _masked(list(block)):
            yield [item.journey_id, item.journey_name, item.verdict,
                   item.status if item.verdict == Verdict.WILL_ACT else "not run",
                   item.outcome or item.reason, item.journey_url, item.expires_at]


def waiting_suspend_steps(*, journey_ids: Iterable[str]) -> list[str]:
    """The ids of suspend steps some of these journeys wait at (the continue action's choices), by name."""
    from journeys.models import WaitingStep

    ids = list(journey_ids)
    steps: set[str] = set()
    for start in range(0, len(ids), 1000):
        steps.update(WaitingStep.objects.filter(journey_id__in=ids[start:start + 1000], step_type=SUSPEND_STEP)
                     .values_list("step_id", flat=True).distinct())
    return sorted(steps)


def step_form_for(*, journey_ids: Iterable[str], step_id: str) -> tuple[FormField, ...] | None:
    """The form fields of ``step_id`` for the first of these journeys waiting there (None when none is)."""
    row = (Journey.objects.filter(pk__in=list(journey_ids)[:MAX_JOURNEYS], waiting_steps__step_id=step_id,
                                  waiting_steps__step_type=SUSPEND_STEP).order_by("id").first())
    if row is None:
        return None
    try:
        return step_form_get(workflow=workflow_get(workflow_id=row.workflow_id, version=row.version),
                             step_id=step_id).fields
    except errors.MintError:
        return None
