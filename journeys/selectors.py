"""Reads for journeys: the list, export and dashboard from the mirror; a journey's page live from Mint.

Everything that lists or counts journeys reads the portal's mirror (``journeys.models.Journey``), scoped
to the workflows the user may view, so it never waits on Mint. A journey's page reads Mint directly,
because step data, files and the execution log live only there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Action, AuditEvent
from accounts.policy import workflow_access
from journeys.models import APPROVAL_STEP, SUSPEND_STEP, Journey, JourneyStatus
from mintportal.cache import cache_key, cached_json, generation
from mintportal.csv_export import csv_lines
from mintportal.mint import errors, get_client, models
from workflows.graph import Graph, workflow_graph
from workflows.selectors import scope_digest, step_type_list, workflow_get

# URL value → mirror field, for every sortable column of the journeys table.
SORT_FIELDS: Final = {
    "name": "name",
    "workflow": "workflow_name",
    "status": "status",
    "waiting": "waiting_since",
    "last": "last_executed_at",
    "alerts": "alert_level",
    "created": "created_at",
}
DEFAULT_SORT: Final = "-last"
WORKFLOW_CHOICES_TTL: Final = 300
# Every mirror write that changes what lists show moves this generation on (journeys.services.mirror).
MIRROR_GENERATION: Final = "journeys-mirror"
# Seconds a rendered screen of mirror data (the journeys list, the dashboard) is reused while the mirror does not
# change; short, so that its relative times ("5 min ago") stay close to true.
MIRROR_SCREEN_TTL: Final = 20
DASHBOARD_DAYS: Final = 30
CSV_COLUMNS: Final = (
    "id", "name", "workflow_id", "workflow_name", "version", "status", "created_at", "last_executed_at",
    "waiting_since", "finished_at", "faulted_at", "cancelled_at", "alert_count", "highest_alert",
)
_ALERT_NAMES: Final = {0: "", 1: "info", 2: "warning", 3: "critical"}


@dataclass(frozen=True)
class JourneyFilters:
    """What the journeys list shows: each field narrows the list; empty means no restriction."""

    status: str = ""
    workflow_id: str = ""
    after: datetime | None = None
    before: datetime | None = None
    search: str = ""
    sort: str = DEFAULT_SORT


def _visible(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Journey]:
    access = workflow_access(user=user, action=Action.VIEW)
    if access.nothing:
        return Journey.objects.none()
    # Rows a full reconcile no longer found in Mint are kept for history but not listed.
    return Journey.objects.filter(access.q("workflow_id"), gone_at__isnull=True)


# Columns with an index of the form (column DESC, id): ordering by them must match it exactly, so the database
# reads one page from the index instead of sorting every matching row.
_INDEXED: Final = frozenset({"last_executed_at", "created_at"})


def _ordering(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    column = SORT_FIELDS.get(sort.lstrip("-"), SORT_FIELDS[DEFAULT_SORT.lstrip("-")])
    if column in _INDEXED:
        # The id breaks ties (so paging is stable) in the direction the index, read forwards or backwards, has.
        return [F(column).desc(), "id"] if descending else [F(column).asc(), "-id"]
    # Unindexed columns are sorted anyway; rows without a value (e.g. not waiting) go last either way.
    expression = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    return [expression, "id" if descending else "-id"]


def journey_queryset(*, user: AbstractBaseUser | AnonymousUser, filters: JourneyFilters) -> QuerySet[Journey]:
    """The mirror rows the user may view that match ``filters``, in the requested order."""
    rows = _visible(user)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.workflow_id:
        rows = rows.filter(workflow_id=filters.workflow_id)
    if filters.after:
        rows = rows.filter(last_executed_at__gt=filters.after)
    if filters.before:
        rows = rows.filter(last_executed_at__lt=filters.before)
    if filters.search:
        rows = rows.filter(Q(id=filters.search) | Q(name__icontains=filters.search))
    return rows.order_by(*_ordering(filters.sort))


def journey_list(*, user: AbstractBaseUser | AnonymousUser, filters: JourneyFilters, page: int, per_page: int
                 ) -> Page:
    """One page of the filtered list; a page past the end gives the last page."""
    paginator = Paginator(journey_queryset(user=user, filters=filters), per_page)
    return paginator.get_page(page)


def journey_mirror_key_parts(*, user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """What a rendered screen of mirror data (the journeys list, the dashboard) depends on besides its URL:
    the mirror's generation and the user's view scope (two users with the same scope see the same screen)."""
    access = workflow_access(user=user, action=Action.VIEW)
    return ["journeys", "screen", generation(MIRROR_GENERATION), scope_digest(access)]


def journey_workflow_choices(*, user: AbstractBaseUser | AnonymousUser) -> list[tuple[str, str]]:
    """(workflow id, name) of every workflow with journeys the user may view, by name; cached per scope."""
    access = workflow_access(user=user, action=Action.VIEW)

    def load() -> list[list[str]]:
        pairs = _visible(user).values_list("workflow_id", "workflow_name").distinct()
        names: dict[str, str] = {}
        for workflow_id, name in pairs:
            names[workflow_id] = names.get(workflow_id) or name or ""
        return sorted(([wid, name or wid] for wid, name in names.items()), key=lambda pair: pair[1].lower())

    rows = cached_json(cache_key("journeys", "workflow-choices", scope_digest(access)),
                       ttl=WORKFLOW_CHOICES_TTL, load=load)
    return [(workflow_id, name) for workflow_id, name in rows]


def journey_workflow_visible(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> bool:
    """Whether the user may see journeys of this workflow and the mirror holds any."""
    return _visible(user).filter(workflow_id=workflow_id).exists()


def journey_csv_lines(*, user: AbstractBaseUser | AnonymousUser, filters: JourneyFilters) -> Iterator[str]:
    """The filtered list as CSV lines (header first), streamed from the database in chunks, every row."""
    rows = journey_queryset(user=user, filters=filters).values_list(
        *[column for column in CSV_COLUMNS if column != "highest_alert"], "alert_level"
    )
    return csv_lines(CSV_COLUMNS, ((*values, _ALERT_NAMES.get(level, ""))
                                   for *values, level in rows.iterator(chunk_size=2000)))


# --- dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ChartBar:
    """One stacked segment of the 30-day chart, positioned in SVG units."""

    status: str
    x: float
    y: float
    width: float
    height: float
    count: int
    day: date


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[ChartBar]
    days: list[tuple[float, str]]
    peak: int
    gridlines: list[tuple[float, int]]
    left: int = 0
    baseline: int = 0

    @property
    def label_y(self) -> int:
        return self.baseline + 16

    @property
    def right(self) -> int:
        return self.width - CHART_RIGHT


@dataclass(frozen=True)
class Dashboard:
    counts: list[StatusCount]
    total: int
    chart: Chart
    waiting: list[Journey]
    faults: list[Journey]
    alerts: list[Journey]


CHART_WIDTH: Final = 1000
CHART_HEIGHT: Final = 220
CHART_LEFT: Final = 36
CHART_RIGHT: Final = 24
CHART_BOTTOM: Final = 22


def _chart(per_day: dict[date, dict[str, int]], days: list[date]) -> Chart:
    peak = max((sum(counts.values()) for counts in per_day.values()), default=0)
    scale_top = max(peak, 1)
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 8
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / len(days)
    bar_width = max(slot * 0.7, 1)
    bars = []
    labels = []
    for index, day in enumerate(days):
        x = CHART_LEFT + index * slot + (slot - bar_width) / 2
        bottom = CHART_HEIGHT - CHART_BOTTOM
        for status in JourneyStatus.values:
            count = per_day.get(day, {}).get(status, 0)
            if not count:
                continue
            height = count / scale_top * plot_height
            bottom -= height
            bars.append(ChartBar(status=status, x=round(x, 1), y=round(bottom, 1), width=round(bar_width, 1),
                                 height=round(height, 1), count=count, day=day))
        if index % 5 == 0 or index == len(days) - 1:
            labels.append((round(x + bar_width / 2, 1), day.strftime("%d %b")))
    gridlines = []
    for fraction in (0.5, 1.0):
        value = round(scale_top * fraction)
        if value:
            gridlines.append((round(CHART_HEIGHT - CHART_BOTTOM - value / scale_top * plot_height, 1), value))
    return Chart(width=CHART_WIDTH, height=CHART_HEIGHT, bars=bars, days=labels, peak=peak, gridlines=gridlines,
                 left=CHART_LEFT, baseline=CHART_HEIGHT - CHART_BOTTOM)


def journey_dashboard(*, user: AbstractBaseUser | AnonymousUser, limit: int = 8) -> Dashboard:
    """Counts by status, journeys started per day for 30 days by status, and the lists needing attention."""
    rows = _visible(user)
    by_status = dict(rows.values("status").annotate(n=Count("id")).values_list("status", "n"))
    counts = [StatusCount(status=value, label=label, count=by_status.get(value, 0))
              for value, label in JourneyStatus.choices]
    today = timezone.localdate()
    days = [today - timedelta(days=offset) for offset in range(DASHBOARD_DAYS - 1, -1, -1)]
    since = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    per_day: dict[date, dict[str, int]] = {}
    started = (rows.filter(created_at__gte=since).annotate(day=TruncDate("created_at"))
               .values_list("day", "status").annotate(n=Count("id")).order_by())
    for day, status, count in started:
        per_day.setdefault(day, {})[status] = count
    return Dashboard(
        counts=counts,
        total=sum(by_status.values()),
        chart=_chart(per_day, days),
        waiting=list(rows.filter(status=JourneyStatus.ACTIVE, waiting_since__isnull=False)
                     .order_by("waiting_since", "id")[:limit]),
        faults=list(rows.filter(status=JourneyStatus.FAULTED)
                    .order_by(F("faulted_at").desc(nulls_last=True), "-id")[:limit]),
        alerts=list(rows.filter(alert_count__gt=0)
                    .order_by("-alert_level", F("last_executed_at").desc(nulls_last=True), "-id")[:limit]),
    )


# --- one journey ----------------------------------------------------------------------------------

# What a journey waiting on a step of each type is waiting for, in the words a case handler uses.
WAITS_FOR: Final = {
    "form": "the end user to fill in the form at the journey URL",
    "eid-login": "the end user to sign in with an eID at the journey URL",
    "suspend": "someone to continue this step by hand",
    "require-approval": "an approver to approve or reject",
    "waiting": "a timer to run out",
}


@dataclass(frozen=True)
class WaitingStep:
    step_id: str
    step_type: str
    label: str
    waits_for: str
    interactive: bool

    @property
    def resumable(self) -> bool:
        return self.step_type == SUSPEND_STEP

    @property
    def approval(self) -> bool:
        return self.step_type == APPROVAL_STEP


@dataclass(frozen=True)
class StepData:
    step_id: str
    label: str
    pretty: str


@dataclass(frozen=True)
class TimelineStep:
    """One step of the execution log, as the timeline draws it."""

    step_id: str
    label: str
    step_type: str
    status: str
    outcome: str
    started_at: datetime | None
    ended_at: datetime | None
    events: list[models.JourneyLogEvent]


def _status_word(status: models.JourneyLogStepStatus | str | None) -> str:
    if isinstance(status, models.JourneyLogStepStatus):
        return status.name or ""
    return str(status or "")


def _status_outcome(status: models.JourneyLogStepStatus | str | None) -> str:
    return (status.outcome or "") if isinstance(status, models.JourneyLogStepStatus) else ""


@dataclass(frozen=True)
class JourneyLive:
    """What a journey's page shows from Mint: the journey, its log, its workflow version and their views."""

    journey: models.JourneyDetail
    log: models.JourneyLog | None
    workflow: models.WorkflowDefinition | None
    waiting: list[WaitingStep]
    step_data: list[StepData]
    graph: Graph | None
    workflow_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def timeline(self) -> list[TimelineStep]:
        steps = self.log.steps if self.log else []
        return [
            TimelineStep(step_id=step.step_id, label=self.labels.get(step.step_id, step.step_id),
                         step_type=step.step_type, status=_status_word(step.status),
                         outcome=_status_outcome(step.status), started_at=step.started_at,
                         ended_at=step.ended_at, events=list(step.events))
            for step in steps
        ]

    @property
    def awaits_approval(self) -> bool:
        return any(step.approval for step in self.waiting)

    @property
    def awaits_end_user(self) -> bool:
        """A step waits on the end user (a form, an eID login), so a journey URL has something to show them."""
        return any(step.interactive for step in self.waiting)

    @property
    def signature(self) -> str:
        """Changes whenever the set of waiting steps changes (the page then redraws its action forms)."""
        ids = ",".join(sorted(f"{step.step_id}:{step.step_type}" for step in self.waiting))
        return hashlib.sha256(f"{self.journey.status}|{ids}".encode()).hexdigest()[:12]


def journey_mirror_get(*, journey_id: str) -> Journey | None:
    """The mirror row of one journey, if the portal has seen it."""
    return Journey.objects.filter(pk=journey_id).first()


def _step_labels(workflow: models.WorkflowDefinition | None) -> dict[str, str]:
    if workflow is None:
        return {}
    return {step.id: step.display_name or step.name or step.id for step in workflow.steps}


def _log_states(log: models.JourneyLog | None) -> dict[str, str]:
    states: dict[str, str] = {}
    for step in log.steps if log else []:
        status = _status_word(step.status).lower()
        if "fault" in status or "fail" in status:
            states[step.step_id] = "faulted"
        elif step.ended_at is not None or status in {"finished", "done", "completed"}:
            states.setdefault(step.step_id, "done")
    return states


def _interactive_types() -> set[str]:
    try:
        return {row.type for row in step_type_list() if row.interactive}
    except errors.MintError:
        return {"form", "eid-login"}


def journey_awaits_end_user(*, journey: models.JourneyDetail) -> bool:
    """Whether a journey URL leads the end user anywhere: the journey has not run its first step yet, or one of
    the steps it waits on is interactive (the end user's form or eID login) by the step-type catalogue."""
    if journey.status == "idle":
        return True
    return any(step.step_type in _interactive_types() for step in journey.active_steps)


def journey_live(*, journey_id: str) -> JourneyLive:
    """Reads one journey and its execution log from Mint, with the workflow version it runs (cached).

    Raises ``MintNotFoundError`` when Mint does not know the journey and other ``MintError``s when Mint
    cannot answer; a missing workflow definition or log only leaves those parts out.
    """
    client = get_client()
    journey = client.get_journey(journey_id)
    try:
        log = client.get_journey_log(journey_id)
    except (errors.MintNotFoundError, errors.MintResponseError):
        # A log Mint does not have, or one the portal cannot read, leaves the timeline out, not the whole page.
        log = None
    try:
        workflow = workflow_get(workflow_id=journey.workflow_id, version=journey.version)
    except errors.MintNotFoundError:
        workflow = None
    labels = _step_labels(workflow)
    interactive = _interactive_types() if journey.active_steps else set()
    waiting = [
        WaitingStep(
            step_id=step.step_id, step_type=step.step_type, label=labels.get(step.step_id, step.step_id),
            waits_for=WAITS_FOR.get(step.step_type)
            or ("the end user at the journey URL" if step.step_type in interactive else "something outside Mint"),
            interactive=step.step_type in interactive,
        )
        for step in journey.active_steps
    ]
    step_data = [
        StepData(step_id=step_id, label=labels.get(step_id, step_id),
                 pretty=json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str))
        for step_id, data in journey.step_data.items()
    ]
    graph = None
    if workflow is not None and workflow.steps:
        graph = workflow_graph(steps=workflow.steps, connections=workflow.connections,
                               active={step.step_id for step in journey.active_steps}, states=_log_states(log))
    return JourneyLive(journey=journey, log=log, workflow=workflow, waiting=waiting, step_data=step_data,
                       graph=graph, workflow_name=(workflow.name or "") if workflow else "", labels=labels)


@dataclass(frozen=True)
class NoteView:
    note: models.JourneyNote
    author: str
    edited_by: str


def journey_notes(*, journey_id: str, search: str = "", step_id: str = "") -> list[NoteView]:
    """The journey's notes, newest first, each with the portal user who wrote it (from the audit trail); with
    ``step_id``, only the notes about that step (Mint's listing has no such filter, so the portal applies it).

    Mint records the API client as every note's author; the portal knows the person from its own
    ``note.create`` / ``note.update`` audit events and falls back to Mint's author for notes made elsewhere.
    """
    notes = [note for note in get_client().iter_journey_notes(journey_id, search=search or None)
             if not step_id or note.step_id == step_id]
    notes.sort(key=lambda note: (note.created_at or datetime.min.replace(tzinfo=UTC), note.id),
               reverse=True)
    authors: dict[str, str] = {}
    editors: dict[str, str] = {}
    events = (AuditEvent.objects.filter(journey_id=journey_id, action__in=("note.create", "note.update"),
                                        outcome=AuditEvent.Outcome.OK)
              .order_by("at", "id").values_list("action", "actor_username", "detail"))
    for action, username, detail in events:
        note_id = str((detail or {}).get("note_id", ""))
        (authors if action == "note.create" else editors)[note_id] = username
    return [NoteView(note=note, author=authors.get(note.id, note.created_by), edited_by=editors.get(note.id, ""))
            for note in notes]
