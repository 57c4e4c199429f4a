"""Reads for journeys from the mirror: the list, the export and the dashboard (a journey's page: journeys/page.py).

Everything that lists or counts journeys reads the portal's mirror (``journeys.models.Journey``), scoped
to the workflows the user may view, so it never waits on Mint. What they show of a journey is masked for everyone
(``privacy.masking``): its personal values (markers) by their masks, and its name, data columns and alert messages
by the words its markers know and identifiers found by format. Revealing is per journey, on its page only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.models import Action
from accounts.policy import workflow_access
from journeys.chart import Chart, stacked_chart
from journeys.datafilter import DataCondition, DataFilterError, DataMatch, DataPath, column_value, parse_condition
from journeys.models import NO_ALERT, Journey, JourneyStatus, StepVisit, WaitingStep, alert_level_name
from mintportal.cache import cache_key, cached_json, generation
from mintportal.csv_export import csv_lines
from mintportal.mint import errors, models
from privacy.masking import Masker
from privacy.selectors import personal_paths
from workflows.selectors import scope_digest, step_type_list

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
# Moves on with every write that changes who a waiting step waits on: its steps, claims, approval votes and
# decisions (journeys.services.mirror.waiting_work_changed). With MIRROR_GENERATION it keys the cached count of
# each user's waiting work.
WORK_GENERATION: Final = "journeys-work"
# Seconds a rendered screen of mirror data (the journeys list, the dashboard) is reused while the mirror does not
# change; short, so that its relative times ("5 min ago") stay close to true.
MIRROR_SCREEN_TTL: Final = 20
DASHBOARD_DAYS: Final = 30
CSV_COLUMNS: Final = (
    "id", "name", "workflow_id", "workflow_name", "version", "status", "created_at", "last_executed_at",
    "waiting_since", "finished_at", "faulted_at", "cancelled_at", "alert_count", "highest_alert",
)


@dataclass(frozen=True)
class JourneyFilters:
    """What the journeys list shows: each field narrows the list; empty means no restriction."""

    status: str = ""
    workflow_id: str = ""
    after: datetime | None = None
    before: datetime | None = None
    search: str = ""
    sort: str = DEFAULT_SORT
    # Waiting at this step (a WaitingStep row); with status "faulted": faulted at it (its log says the step faulted).
    step: str = ""
    # Business-data filters (journeys.datafilter), all of which must match.
    data: tuple[DataCondition, ...] = ()
    # Data paths shown as extra columns (and exported); they do not narrow the list.
    columns: tuple[DataPath, ...] = ()


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
    if filters.step:
        rows = rows.filter(_at_step(filters.step, faulted=filters.status == JourneyStatus.FAULTED))
    # Only rows already in the user's scope are tested, so no filter can tell anything about other workflows' data.
    for condition in filters.data:
        rows = rows.filter(DataMatch(condition))
    return rows.order_by(*_ordering(filters.sort))


def faulted_step_visits() -> QuerySet[StepVisit]:
    """The step visits whose step faulted, by the journeys' execution logs (``StepVisit``, written by
    journeys.services.step_history). With the journey's status, they define "faulted at step S": a faulted journey
    whose log says step S faulted (``faulted_at_step``, ``faulted_step_pairs``). Alerts do not place a journey: a
    workflow raises them in trigger-alert steps *before* the step that faults. The journeys list's step filter and
    current-step column and the workflow graph's faulted counts all read these, so a count always equals the rows
    of the list it links to. A faulted journey whose log has not been read yet is at no step."""
    # The journey's status is tested on the journey rows, not joined in here: a second join of the journeys table
    # inside the list's EXISTS makes PostgreSQL hash every faulted journey before it reads the page.
    return StepVisit.objects.filter(faulted=True)


def faulted_at_step(step_id: str) -> Q:
    """A journey faulted at ``step_id``: it is faulted and its log says that step faulted."""
    return Q(status=JourneyStatus.FAULTED) & Q(Exists(faulted_step_visits().filter(journey=OuterRef("pk"),
                                                                                   step_id=step_id)))


def faulted_step_pairs(rows: QuerySet[Journey]) -> QuerySet[StepVisit, Any]:
    """Each (step_id, journey_id) of ``rows`` faulted at that step, once: ``faulted_at_step`` for every step."""
    return (faulted_step_visits().filter(journey__in=rows.filter(status=JourneyStatus.FAULTED).values("id"))
            .values("step_id", "journey_id").distinct().order_by())


def _at_step(step_id: str, *, faulted: bool) -> Q | Exists:
    """"Waiting at step S": the journey has a WaitingStep row for S. "Faulted at step S" (asked with status
    faulted): ``faulted_at_step``. The workflow graph's per-step counts use these definitions."""
    if faulted:
        return faulted_at_step(step_id)
    return Exists(WaitingStep.objects.filter(journey=OuterRef("pk"), step_id=step_id))


# Past this many matching rows the list shows PostgreSQL's estimate instead of counting every row ("about 1.2
# million"): a bounded count reads at most this many index entries, an exact one grows with the mirror.
EXACT_COUNT_LIMIT: Final = 10_000


class JourneyPaginator(Paginator):
    """A paginator whose count is exact up to ``EXACT_COUNT_LIMIT`` matching rows and the planner's estimate
    past it (``estimated`` says which); the embedded SQLite default always counts."""

    estimated = False

    @cached_property
    def count(self) -> int:
        # Always a queryset here (journey_list builds it); counting needs no order.
        rows = cast(QuerySet[Journey], self.object_list).order_by()
        if connection.vendor != "postgresql":
            return rows.count()
        bounded = rows[:EXACT_COUNT_LIMIT + 1].count()
        if bounded <= EXACT_COUNT_LIMIT:
            return bounded
        self.estimated = True
        plan = json.loads(rows.explain(format="json"))
        return max(int(plan[0]["Plan"]["Plan Rows"]), bounded)


def count_words(count: int, *, estimated: bool) -> str:
    """How the list states its count: exact ("1,204"), or rounded when estimated ("about 1.2 million")."""
    if not estimated:
        return f"{count:,}"
    if count >= 1_000_000:
        return f"about {count / 1_000_000:.1f} million"
    return f"about {round(count, -3):,}"


@dataclass(frozen=True)
class JourneyRow:
    """A row of the journeys list: the mirror row, where it stands (the steps it waits at, or for a faulted
    journey the steps its execution log says faulted: ``faulted_step_visits``) and the values of the data columns
    asked for."""

    journey: Journey
    current_steps: tuple[str, ...]
    values: tuple[str, ...]
    # The journey's name as shown: masked (names can hold a person's name).
    name: str = ""

    @property
    def faulted(self) -> bool:
        return self.journey.status == JourneyStatus.FAULTED


def _current_steps(journey: Journey) -> tuple[str, ...]:
    if journey.status == JourneyStatus.FAULTED:
        # Prefetched by journey_list: the journey's faulted visits in the log's order, each step once.
        return tuple(dict.fromkeys(visit.step_id for visit in getattr(journey, "faulted_visits", ())))
    return tuple(step.step_id for step in journey.waiting_steps.all())


def _row(journey: Journey, columns: Sequence[DataPath]) -> JourneyRow:
    masker = Masker.for_data(journey.data)
    return JourneyRow(journey=journey, current_steps=_current_steps(journey),
                      values=tuple(column_value(journey.data, path, masker) for path in columns),
                      name=masker.text(journey.name))


def _rows(journeys: Sequence[Journey], columns: Sequence[DataPath]) -> list[JourneyRow]:
    return [_row(journey, columns) for journey in journeys]


def journey_list(*, user: AbstractBaseUser | AnonymousUser, filters: JourneyFilters, page: int, per_page: int
                 ) -> Page:
    """One page of the filtered list as ``JourneyRow`` objects; a page past the end gives the last page.

    The paginator (``JourneyPaginator``) says whether its count is an estimate. Only the shown page's waiting
    steps and faulted step visits are read (one query each). The stored data is read with the rows: its markers
    mask the names as well as the data columns."""
    rows = journey_queryset(user=user, filters=filters).prefetch_related(
        Prefetch("waiting_steps", queryset=WaitingStep.objects.order_by("position")),
        Prefetch("step_visits", queryset=faulted_step_visits().order_by("position"), to_attr="faulted_visits"))
    paginator = JourneyPaginator(rows, per_page)
    if page <= 1:
        # The first page is read before the count: when it is not full it is every match, and the count (a
        # second pass over the matching rows, the whole cost of a range or contains filter) is not needed.
        first = list(rows[:per_page])
        if len(first) < per_page:
            paginator.__dict__["count"] = len(first)
        return Page(_rows(first, filters.columns), 1, paginator)
    shown = paginator.get_page(page)
    return Page(_rows(list(shown.object_list), filters.columns), shown.number, paginator)


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
    """The filtered list as CSV lines (header first), streamed from the database in chunks, every row; names and
    data columns masked as the list shows them."""
    columns = filters.columns
    rows = journey_queryset(user=user, filters=filters).values_list(
        *[column for column in CSV_COLUMNS if column != "highest_alert"], "alert_level", "data",
    )
    width = len(CSV_COLUMNS)
    name_at = CSV_COLUMNS.index("name")

    def line(values: tuple[Any, ...]) -> tuple[Any, ...]:
        level, data = values[width - 1], values[width]
        masker = Masker.for_data(data)
        shown = (*values[:name_at], masker.text(values[name_at]), *values[name_at + 1:width - 1],
                 alert_level_name(level) if level != NO_ALERT else "")
        return (*shown, *(column_value(data, path, masker) for path in columns))

    header = (*CSV_COLUMNS, *(path.text for path in columns))
    return csv_lines(header, (line(values) for values in rows.iterator(chunk_size=2000)))


# --- dashboard ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class DashboardJourney:
    """A journey in one of the dashboard's lists, with its name and first alert message as shown (masked)."""

    journey: Journey
    name: str
    alert: str


def _dashboard_journeys(rows: QuerySet[Journey]) -> list[DashboardJourney]:
    shown = []
    for journey in rows:
        masker = Masker.for_data(journey.data)
        first = journey.alerts[0] if journey.alerts and isinstance(journey.alerts[0], dict) else {}
        shown.append(DashboardJourney(journey=journey, name=masker.text(journey.name),
                                      alert=masker.text(str(first.get("message") or ""))))
    return shown


@dataclass(frozen=True)
class Dashboard:
    counts: list[StatusCount]
    total: int
    chart: Chart
    waiting: list[DashboardJourney]
    faults: list[DashboardJourney]
    alerts: list[DashboardJourney]


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
        chart=stacked_chart(per_day=per_day, days=days),
        waiting=_dashboard_journeys(rows.filter(status=JourneyStatus.ACTIVE, waiting_since__isnull=False)
                                    .order_by("waiting_since", "id")[:limit]),
        faults=_dashboard_journeys(rows.filter(status=JourneyStatus.FAULTED)
                                   .order_by(F("faulted_at").desc(nulls_last=True), "-id")[:limit]),
        alerts=_dashboard_journeys(rows.filter(alert_count__gt=0)
                                   .order_by("-alert_level", F("last_executed_at").desc(nulls_last=True),
                                             "-id")[:limit]),
    )


# --- one journey ----------------------------------------------------------------------------------


def journey_mirror_get(*, journey_id: str) -> Journey | None:
    """The mirror row of one journey, if the portal has seen it."""
    return Journey.objects.filter(pk=journey_id).first()


def interactive_step_types() -> set[str]:
    """The step types that wait on the end user (a form, an eID login), by Mint's step-type catalogue (cached)."""
    try:
        return {row.type for row in step_type_list() if row.interactive}
    except errors.MintError:
        return {"form", "eid-login"}


def journey_awaits_end_user(*, journey: models.JourneyDetail) -> bool:
    """Whether a journey URL leads the end user anywhere: the journey has not run its first step yet, or one of
    the steps it waits on is interactive (the end user's form or eID login) by the step-type catalogue."""
    if journey.status == "idle":
        return True
    return any(step.step_type in interactive_step_types() for step in journey.active_steps)


def query_without_personal_values(query: str) -> str:
    """A journeys-list query string with every data filter that matches a personal field by its value left out:
    what a job may keep of the filters that chose its journeys (the value would sit in it in clear)."""
    parsed = QueryDict(query, mutable=True)
    lines = parsed.getlist("data")
    if not lines:
        return query
    personal = personal_paths()
    kept = []
    for line in lines:
        try:
            if parse_condition(line, personal=personal).hashes:
                continue
        except DataFilterError:
            pass
        kept.append(line)
    parsed.setlist("data", kept)
    return parsed.urlencode()
