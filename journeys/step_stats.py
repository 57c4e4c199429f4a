"""Reads for a workflow graph's step figures: how many journeys wait at each step now, how many faulted there,
and the median time journeys spent in it over the last ``WINDOW_DAYS`` days.

The counts are over the same rows as the journeys list (``journeys.selectors.journey_queryset``: the user's view
scope, journeys not gone), with the list's definitions, so a count equals the rows of the list it links to:

- *waiting at S*: the journey has a ``WaitingStep`` row for S (what its detail last said it waits on);
- *faulted at S*: the journey's status is faulted and its execution log says step S faulted (a faulted
  ``StepVisit``: ``journeys.selectors.faulted_step_pairs``, as the list's ``faulted_at_step``). Not its alerts: a
  workflow raises those in trigger-alert steps before the step that faults. A faulted journey whose log is not
  read yet is at no step; ``step_faulted_unplaced`` counts those.

Each figure is one GROUP BY query over the workflow's rows (journey ids by workflow from a partial index, faulted
visits by journey from a partial index, step visits by workflow and end time from a covering index). The median is
PostgreSQL's ``percentile_cont(0.5)``; SQLite (the embedded default) has no percentile aggregate, so there the
window's durations are read and the median is taken in Python. The counts are read live; the medians, which only
the step-history job changes, are cached per workflow.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Aggregate, Count, Exists, FloatField, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Action
from accounts.policy import workflow_access
from journeys.models import Journey, JourneyStatus, StepVisit, WaitingStep
from journeys.selectors import JourneyFilters, faulted_step_pairs, faulted_step_visits, journey_queryset
from mintportal.cache import cache_key, cached_json

WINDOW_DAYS: Final = 30
# A workflow's medians are cached this long at most, so they follow the sliding window closely enough; the
# step-history job replaces them as soon as it writes visits of the workflow.
MEDIAN_TTL: Final = 300


class Median(Aggregate):
    """PostgreSQL's continuous median (the mean of the two middle values for an even count, as
    ``statistics.median``)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class StepFigures:
    """One step's figures and the lists they link to."""

    step_id: str
    waiting: int
    faulted: int
    # Seconds; None when no visit of the step ended within the window.
    median_seconds: float | None
    visits: int
    waiting_url: str
    faulted_url: str


def _workflow_rows(user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> QuerySet[Journey]:
    return journey_queryset(user=user, filters=JourneyFilters(workflow_id=workflow_id)).order_by()


def _grouped(sql: str, params: Any) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {str(step_id): int(count) for step_id, count in cursor.fetchall()}


def step_waiting_counts(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> dict[str, int]:
    """Step id → journeys of the workflow that the user may view and that wait at that step now."""
    # Each (step, journey) pair once, then counted per step: two hash aggregates, where COUNT(DISTINCT) would sort.
    pairs = (WaitingStep.objects.filter(journey__in=_workflow_rows(user, workflow_id).values("id"))
             .values("step_id", "journey_id").distinct().order_by())
    try:
        subquery, params = pairs.query.sql_with_params()
    except EmptyResultSet:
        return {}
    return _grouped(f"SELECT w.step_id, COUNT(*) FROM ({subquery}) w GROUP BY w.step_id", params)


def step_faulted_counts(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> dict[str, int]:
    """Step id → faulted journeys of the workflow that the user may view and whose execution log says that step
    faulted (``journeys.selectors.faulted_step_pairs``, the list's definition)."""
    # Each (step, journey) pair once, then counted per step, as the waiting counts.
    pairs = faulted_step_pairs(_workflow_rows(user, workflow_id))
    try:
        subquery, params = pairs.query.sql_with_params()
    except EmptyResultSet:
        return {}
    return _grouped(f"SELECT f.step_id, COUNT(*) FROM ({subquery}) f GROUP BY f.step_id", params)


def step_faulted_unplaced(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> int:
    """Faulted journeys of the workflow that the user may view and that no step's faulted count holds: their log
    has not been read since they faulted (the step-history job reads faulted journeys' logs first), or it names
    no faulted step."""
    return (_workflow_rows(user, workflow_id).filter(status=JourneyStatus.FAULTED)
            .exclude(Exists(faulted_step_visits().filter(journey=OuterRef("pk")))).count())


def step_window_start(now: datetime) -> datetime:
    """The window's open start: a visit counts when it ended after this and not after ``now``."""
    return now - timedelta(days=WINDOW_DAYS)


def workflow_step_medians(*, workflow_id: str, now: datetime | None = None) -> dict[str, tuple[float, int]]:
    """Step id → (median seconds, visits) over the visits of the workflow's journeys that ended within the last
    ``WINDOW_DAYS`` days, for everyone who may view the workflow.

    The view scope is per workflow, so whoever may view the workflow sees the same figure, and the query needs no
    join with the journeys (the visits of journeys Mint has since dropped count too: the time was spent).
    """
    now = now or timezone.now()
    visits = StepVisit.objects.filter(
        workflow_id=workflow_id, ended_at__gt=step_window_start(now), ended_at__lte=now, seconds__isnull=False,
    ).order_by()
    if connection.vendor == "postgresql":
        rows = visits.values("step_id").annotate(median=Median("seconds"), n=Count("id"))
        return {row["step_id"]: (row["median"], row["n"]) for row in rows}
    durations: dict[str, list[float]] = {}
    for step_id, seconds in visits.values_list("step_id", "seconds").iterator(chunk_size=5000):
        if seconds is not None:
            durations.setdefault(step_id, []).append(seconds)
    return {step_id: (statistics.median(values), len(values)) for step_id, values in durations.items()}


def step_median_seconds(
    *, user: AbstractBaseUser | AnonymousUser, workflow_id: str, now: datetime | None = None
) -> dict[str, tuple[float, int]]:
    """``workflow_step_medians`` for a user: nothing for a workflow they may not view."""
    if not workflow_access(user=user, action=Action.VIEW).allows(workflow_id):
        return {}
    return workflow_step_medians(workflow_id=workflow_id, now=now)


def step_median_key(*, workflow_id: str) -> str:
    """The cache key of a workflow's medians (replaced by the step-history job when it writes the workflow's
    visits: journeys.services.step_history)."""
    return cache_key("journeys", "step-medians", workflow_id)


def step_medians_cached(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> dict[str, tuple[float, int]]:
    """``step_median_seconds`` through the cache (per workflow: the figure is the same for everyone who may view it)."""
    if not workflow_access(user=user, action=Action.VIEW).allows(workflow_id):
        return {}
    return step_medians_load(workflow_id=workflow_id)


def step_medians_load(*, workflow_id: str) -> dict[str, tuple[float, int]]:
    """The workflow's medians from the cache, computed now on a miss (no scope check: for callers that made it)."""
    rows = cached_json(step_median_key(workflow_id=workflow_id), ttl=MEDIAN_TTL,
                       load=lambda: workflow_step_medians(workflow_id=workflow_id))
    return {step_id: (float(median), int(count)) for step_id, (median, count) in rows.items()}


def step_list_url(*, workflow_id: str, step_id: str, status: str = "") -> str:
    """The journeys list filtered to the workflow's journeys at the step (and in ``status``, if given)."""
    params: dict[str, Any] = {"workflow": workflow_id}
    if status:
        params["status"] = status
    params["step"] = step_id
    return f"{reverse('journeys:list')}?{urlencode(params)}"


def workflow_step_stats(
    *, user: AbstractBaseUser | AnonymousUser, workflow_id: str, step_ids: list[str], now: datetime | None = None
) -> dict[str, StepFigures]:
    """Every step's figures (zeros for a step no journey reached), keyed by step id. The counts are read live; the
    medians come from the cache unless ``now`` asks for them at a given time."""
    waiting = step_waiting_counts(user=user, workflow_id=workflow_id)
    faulted = step_faulted_counts(user=user, workflow_id=workflow_id)
    medians = (step_median_seconds(user=user, workflow_id=workflow_id, now=now) if now is not None
               else step_medians_cached(user=user, workflow_id=workflow_id))
    figures = {}
    for step_id in step_ids:
        median, visits = medians.get(step_id, (None, 0))
        figures[step_id] = StepFigures(
            step_id=step_id, waiting=waiting.get(step_id, 0), faulted=faulted.get(step_id, 0),
            median_seconds=median, visits=visits,
            waiting_url=step_list_url(workflow_id=workflow_id, step_id=step_id),
            faulted_url=step_list_url(workflow_id=workflow_id, step_id=step_id, status=JourneyStatus.FAULTED),
        )
    return figures
