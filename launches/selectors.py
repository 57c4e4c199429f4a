"""Reads for launches: one launch, a bulk launch's progress, its invalid rows and its results.

Every read that names a launch checks access through ``accounts.policy``. A launch's page is its
launcher's, and is also shown (without the journey URL) to anyone who may view the journey it started; a bulk
launch is its launcher's alone. Everyone else gets 404.

A launch's input is its journey's input, so whatever these pages and files show of it after the launch form (its
errors, the results of a bulk launch) is masked by the workflow's personal-data declaration, for everyone: the
launcher saw the values while typing them, and a reveal counts on the journey's page only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count

from accounts.models import Action, WorkflowRecord
from accounts.policy import ensure_can, user_can, workflow_access
from journeys.models import Journey
from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus
from mintportal.errors import NotVisible
from privacy.masking import Masker, is_marker, pseudonymise
from privacy.selectors import Fields, declaration_fields

RECENT_LIMIT = 20


def launch_fields(*, workflow_id: str, journey_id: str = "") -> Fields:
    """The personal fields declared for a launch's input (paths ``input.<parameter>``): the declaration of the
    version its journey runs when the mirror knows the journey, else of the workflow's latest known version."""
    version = Journey.objects.filter(pk=journey_id).values_list("version", flat=True).first() if journey_id else None
    if version is None:
        version = WorkflowRecord.objects.filter(pk=workflow_id).values_list("version", flat=True).first() or 0
    return declaration_fields(workflow_id=workflow_id, version=version)


@dataclass(frozen=True)
class InputMask:
    """One launch's input and texts as shown after the launch form: declared values as their masks, and the
    input's values masked wherever a text (Mint's error) repeats them."""

    masker: Masker
    input: dict[str, Any]

    @classmethod
    def of(cls, values: Mapping[str, Any] | None, *, fields: Fields) -> InputMask:
        tree = {"input": dict(values or {})}
        stored = pseudonymise(tree, fields)
        # Only clear values go in as clear data: a marker's own keys would pass for personal values.
        clear = {"input": {key: value for key, value in tree["input"].items() if not is_marker(value)}}
        masker = Masker.for_data(stored, fields=fields, clear=clear)
        shown = masker.data(stored)["input"]
        return cls(masker=masker, input=shown if isinstance(shown, dict) else {})

    def text(self, text: str) -> str:
        return self.masker.text(text)


def launch_error_shown(*, launch: Launch) -> str:
    """The launch's error (Mint's refusal may quote the input) with the input's personal values masked."""
    if not launch.error:
        return ""
    fields = launch_fields(workflow_id=launch.workflow_id, journey_id=launch.journey_id)
    return InputMask.of(launch.input, fields=fields).text(launch.error)


def _parse_id(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotVisible("No launch has this id.") from None


def launch_get(*, user: AbstractBaseUser | AnonymousUser, launch_id: uuid.UUID | str) -> Launch:
    """The launch, for its launcher (who may still launch journeys of its workflow) and for anyone who may view
    the journey it started; 404 for everyone else, so a launch id reveals nothing. Only the launcher is shown
    its journey URL: see :func:`launch_shows_url`."""
    launch = Launch.objects.filter(pk=_parse_id(launch_id)).first()
    if launch is None:
        raise NotVisible("No such launch.")
    if launch.created_by_id is not None and launch.created_by_id == user.pk:
        ensure_can(user=user, action=Action.LAUNCH, workflow_id=launch.workflow_id)
        return launch
    if launch.journey_id and user_can(user=user, action=Action.VIEW, workflow_id=launch.workflow_id):
        return launch
    raise NotVisible("The launch is not in your view scope.")


def launch_shows_url(*, user: AbstractBaseUser | AnonymousUser, launch: Launch) -> bool:
    """Whether the launch's page shows its journey URL: a bearer link for the end user, for its launcher alone.
    Others who may share links of the workflow create their own on the journey's page."""
    return launch.created_by_id is not None and launch.created_by_id == user.pk


def bulk_launch_get(*, user: AbstractBaseUser | AnonymousUser, bulk_id: uuid.UUID | str) -> BulkLaunch:
    """The bulk launch, for its launcher alone (while they may launch journeys of its workflow): its results
    hold every row's journey URL. 404 for everyone else."""
    bulk = BulkLaunch.objects.filter(pk=_parse_id(bulk_id)).first()
    if bulk is None or bulk.created_by_id is None or bulk.created_by_id != user.pk:
        raise NotVisible("The bulk launch does not exist or is not yours.")
    ensure_can(user=user, action=Action.LAUNCH, workflow_id=bulk.workflow_id)
    return bulk


@dataclass(frozen=True)
class BulkProgress:
    """Counts of a bulk launch's rows; ``remaining`` counts queued and starting rows."""

    total: int
    started: int
    failed: int
    needs_review: int
    remaining: int
    invalid: int
    finished: bool

    @property
    def done(self) -> int:
        return self.started + self.failed + self.needs_review

    @property
    def percent(self) -> int:
        launched = self.done + self.remaining
        return 100 if launched == 0 else int(100 * self.done / launched)


def bulk_launch_progress(*, bulk: BulkLaunch) -> BulkProgress:
    """One grouped count over the bulk launch's rows (index on bulk, status)."""
    counts = dict(
        Launch.objects.filter(bulk=bulk).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    remaining = counts.get(LaunchStatus.PENDING, 0) + counts.get(LaunchStatus.STARTING, 0)
    return BulkProgress(
        total=sum(counts.values()),
        started=counts.get(LaunchStatus.STARTED, 0),
        failed=counts.get(LaunchStatus.FAILED, 0),
        needs_review=counts.get(LaunchStatus.NEEDS_REVIEW, 0),
        remaining=remaining,
        invalid=counts.get(LaunchStatus.INVALID, 0),
        finished=bulk.status in (BulkLaunchStatus.FINISHED, BulkLaunchStatus.DISCARDED)
        or (bulk.status == BulkLaunchStatus.LAUNCHING and remaining == 0),
    )


def bulk_launch_invalid_rows(*, bulk: BulkLaunch, offset: int = 0, limit: int = 100) -> list[Launch]:
    """A page of the rows that failed validation, in file order, with their errors by column."""
    return list(
        Launch.objects.filter(bulk=bulk, status=LaunchStatus.INVALID)
        .order_by("row_number").only("row_number", "errors", "input")[offset : offset + limit]
    )


@dataclass(frozen=True)
class ResultRow:
    # A bulk launch's rows always carry their number in the file; the column is nullable for single launches.
    row: int | None
    input: dict[str, Any]
    status: str
    journey_id: str
    journey_url: str
    error: str


def bulk_launch_results(*, bulk: BulkLaunch) -> Iterator[ResultRow]:
    """Every row's input and outcome in file order, streamed from the database in chunks (flat memory), masked by
    the workflow's declaration (the module's docstring)."""
    fields = launch_fields(workflow_id=bulk.workflow_id)
    rows = (
        Launch.objects.filter(bulk=bulk).order_by("row_number")
        .values_list("row_number", "input", "status", "journey_id", "journey_url", "error", "errors")
        .iterator(chunk_size=2000)
    )
    for row_number, values, status, journey_id, journey_url, error, row_errors in rows:
        if row_errors:
            error = "; ".join(f"{item['column']}: {item['message']}" for item in row_errors)
        shown = InputMask.of(values, fields=fields)
        yield ResultRow(row=row_number, input=shown.input, status=status, journey_id=journey_id,
                        journey_url=journey_url, error=shown.text(error))


@dataclass(frozen=True)
class RecentLaunches:
    launches: list[Launch]
    bulks: list[BulkLaunch]


def launch_recent(*, user: AbstractBaseUser | AnonymousUser) -> RecentLaunches:
    """The user's latest single launches and bulk uploads on workflows they may still launch."""
    access = workflow_access(user=user, action=Action.LAUNCH)
    if access.nothing:
        return RecentLaunches(launches=[], bulks=[])
    launches = Launch.objects.filter(access.q(), created_by_id=user.pk, bulk__isnull=True).order_by("-created_at")
    bulks = BulkLaunch.objects.filter(access.q(), created_by_id=user.pk).order_by("-created_at")
    return RecentLaunches(launches=list(launches[:RECENT_LIMIT]), bulks=list(bulks[:RECENT_LIMIT]))


@dataclass(frozen=True)
class LaunchTarget:
    """What a launch page needs about the workflow: its name and input parameters (latest version)."""

    workflow_id: str
    name: str
    parameters: list[str]


def launch_target(*, user: AbstractBaseUser | AnonymousUser, workflow_id: str) -> LaunchTarget:
    """The workflow to launch, if the user may launch it (404 / 403 otherwise); read through the cache."""
    from workflows.selectors import workflow_get

    ensure_can(user=user, action=Action.LAUNCH, workflow_id=workflow_id)
    workflow = workflow_get(workflow_id=workflow_id)
    return LaunchTarget(
        workflow_id=workflow.id, name=workflow.name or workflow.id,
        parameters=[parameter.name for parameter in workflow.input_parameters],
    )
