"""Reads for notifications: each person's choice, and the events (new work, assignments, SLA breaches) they have
not been told about yet.

"Who may act" is the inbox's definition (``approvals.selectors.waiting_journeys``): a journey in the person's
view scope waiting on a step they may act on. An event is told once a ``SentMail`` row for it is sent or skipped;
a failed row becomes due again at its ``retry_at``, a row whose sender died at the end of its lease.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import WorkflowRecord
from accounts.policy import sla_hours_for
from approvals.selectors import InboxFilters, Kind, inbox_rows, journey_names_masked, waiting_journeys
from journeys.models import Claim, Journey
from mintportal.templatetags.portal import duration
from notifications.models import Kind as EventKind
from notifications.models import NotificationPreference, SentMail, Status

EVENT_KEY_LENGTH: Final = SentMail._meta.get_field("event").max_length or 300
# How many events of one kind one person's scan looks at in one run: the rest wait for the next run.
SCAN_LIMIT: Final = 200


@dataclass(frozen=True)
class Notice:
    """One event to tell one person about: the key that makes it once-only, and what the mail says."""

    event: str
    kind: str
    journey_id: str
    since: datetime | None
    subject: str
    lines: tuple[WorkLine, ...]


@dataclass(frozen=True)
class WorkLine:
    """What a mail says of one journey: never its data (input, step output, notes), only where to find it."""

    journey_name: str
    workflow_name: str
    step: str
    waited: str
    link: str


def preference_get(*, user: User) -> NotificationPreference:
    """The person's stored choice, or (unsaved) the default for someone who never chose."""
    stored = NotificationPreference.objects.filter(user=user).first()
    if stored is not None:
        return stored
    now = timezone.now()
    return NotificationPreference(user=user, mode=settings.NOTIFICATIONS_DEFAULT_MODE, watch_from=now, updated_at=now)


def recipients() -> QuerySet[User]:
    """Everyone who can receive mail at all: active, with an address."""
    return User.objects.filter(is_active=True).exclude(email="").order_by("id")


def portal_link(path: str) -> str:
    """An absolute link into the portal for a mail (mails have no request to build one from)."""
    return settings.PORTAL_BASE_URL + path


def _clean(text: str, limit: int = 150) -> str:
    # A header must not carry line breaks, and a subject should stay readable.
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _event_time(value: datetime | None) -> str:
    return value.isoformat() if value else "-"


def event_key(kind: str, *parts: str) -> str:
    """The once-only key of an event. Step ids have no bound in Mint, so a key too long for the column is replaced by
    its kind and a digest of the whole (the same event always gives the same key)."""
    key = ":".join((kind, *parts))
    if len(key) <= EVENT_KEY_LENGTH:
        return key
    return f"{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _workflow_names(workflow_ids: set[str]) -> dict[str, str]:
    return dict(WorkflowRecord.objects.filter(pk__in=workflow_ids).exclude(name="").values_list("id", "name"))


def _line(journey: Journey, *, name: str, step: str, now: datetime, names: dict[str, str]) -> WorkLine:
    """A mail's line about ``journey``; ``name`` is its name already masked (``journey_names_masked``): a mail is
    read outside the portal, so it never carries a personal value, whoever receives it."""
    since = journey.waiting_since
    return WorkLine(
        journey_name=_clean(name or journey.id),
        workflow_name=_clean(journey.workflow_name or names.get(journey.workflow_id) or journey.workflow_id),
        step=step,
        waited=duration(now - since) if since else "unknown",
        link=portal_link(reverse("journeys:detail", args=[journey.id])),
    )


def _told(*, user: User, kind: str, now: datetime) -> tuple[Exists, Exists]:
    """(done, due again): whether the person has a finished row of this kind for the outer journey's waiting period,
    and whether one of their rows for it may be sent again now."""
    rows = SentMail.objects.filter(user=user, kind=kind, journey_id=OuterRef("pk"),
                                   since=OuterRef("waiting_since"))
    done = Exists(rows.filter(status__in=[Status.SENT, Status.SKIPPED]))
    again = Exists(rows.filter(due_again(now)))
    return done, again


def due_again(now: datetime) -> Q:
    """Rows that may be sent again now: failed ones whose retry has come, claimed ones whose sender's lease ended."""
    return Q(status=Status.FAILED, retry_at__lte=now) | Q(status=Status.SENDING, lease_until__lt=now)


def claimable(*, user: User, events: list[str], now: datetime) -> set[str]:
    """Which of ``events`` may be sent to the person now: no row yet, or a row due again."""
    rows = SentMail.objects.filter(user=user, event__in=events)
    blocked = set(rows.exclude(due_again(now)).values_list("event", flat=True))
    return set(events) - blocked


def work_event(*, journey_id: str, step_id: str, waiting_since: datetime | None) -> str:
    return event_key(EventKind.WORK, journey_id, step_id, _event_time(waiting_since))


@dataclass(frozen=True)
class WorkItem:
    """A step newly waiting on the person: (journey, step id, waiting since), with its mail line."""

    event: str
    journey_id: str
    since: datetime | None
    line: WorkLine


def new_work(
    *, user: User, preference: NotificationPreference, now: datetime, limit: int = SCAN_LIMIT
) -> list[WorkItem]:
    """Steps waiting on the person since their watermark that they have not been told about, oldest first."""
    done, again = _told(user=user, kind=EventKind.WORK, now=now)
    journeys = list(
        waiting_journeys(user=user, filters=InboxFilters())
        .filter(waiting_since__gte=preference.watch_from)
        .filter(~done | again)[:limit]
    )
    names = _workflow_names({journey.workflow_id for journey in journeys})
    items = []
    for row in inbox_rows(user=user, journeys=journeys):
        for step in row.steps:
            items.append(WorkItem(
                event=work_event(journey_id=row.journey.id, step_id=step.step_id, waiting_since=row.waiting_since),
                journey_id=row.journey.id, since=row.waiting_since,
                line=_line(row.journey, name=row.name, step=f"{step.label} ({_clean(step.step_id, 60)})", now=now,
                           names=names),
            ))
    open_events = claimable(user=user, events=[item.event for item in items], now=now)
    return [item for item in items if item.event in open_events]


def work_notices(*, user: User, preference: NotificationPreference, now: datetime) -> list[Notice]:
    """One notice per new waiting step, for a person who chose to hear at once."""
    return [
        Notice(event=item.event, kind=EventKind.WORK, journey_id=item.journey_id, since=item.since,
               subject=f"New work: {item.line.journey_name} ({item.line.workflow_name})", lines=(item.line,))
        for item in new_work(user=user, preference=preference, now=now)
    ]


def assignment_notices(*, user: User, preference: NotificationPreference, now: datetime) -> list[Notice]:
    """Cases someone else assigned to the person since their watermark, not told yet."""
    claims = list(
        Claim.objects.filter(user=user, assigned_by__isnull=False, claimed_at__gte=preference.watch_from)
        .exclude(assigned_by=user).select_related("journey").order_by("claimed_at", "id")[:SCAN_LIMIT]
    )
    names = _workflow_names({claim.journey.workflow_id for claim in claims})
    journey_names = journey_names_masked(journeys=[claim.journey for claim in claims])
    notices = {}
    for claim in claims:
        event = event_key(EventKind.ASSIGNMENT, claim.journey_id, claim.step_id, _event_time(claim.claimed_at))
        line = _line(claim.journey, name=journey_names[claim.journey_id], step=_clean(claim.step_id, 60), now=now,
                     names=names)
        notices[event] = Notice(event=event, kind=EventKind.ASSIGNMENT, journey_id=claim.journey_id,
                                since=claim.claimed_at, subject=f"Assigned to you: {line.journey_name}", lines=(line,))
    open_events = claimable(user=user, events=list(notices), now=now)
    return [notice for event, notice in notices.items() if event in open_events]


def sla_event(*, journey_id: str, waiting_since: datetime | None) -> str:
    return event_key(EventKind.SLA, journey_id, _event_time(waiting_since))


@dataclass(frozen=True)
class Breach:
    notice: Notice
    # When the SLA ran out; a breach before the person's watermark is recorded as skipped, never mailed.
    breached_at: datetime


def sla_breaches(*, user: User, now: datetime) -> list[Breach]:
    """Journeys whose SLA (as it applies to this person) has run out, waiting on them: assigned to them, or held by
    nobody and in their inbox. Not yet told; at most ``SCAN_LIMIT`` a run."""
    candidates = waiting_journeys(user=user, filters=InboxFilters()).filter(Q(claim__isnull=True) | Q(claim__user=user))
    # Only workflows where an SLA applies to the person, and only journeys older than it, are read: the rest of a
    # large inbox (no SLA, not yet late) costs one distinct query and no rows.
    workflow_ids = set(candidates.order_by().values_list("workflow_id", flat=True).distinct())
    late = Q(pk__in=[])
    for workflow_id in workflow_ids:
        limits = [hours for action in Kind.ACTIONS.values()
                  if (hours := sla_hours_for(user=user, action=action, workflow_id=workflow_id))]
        if limits:
            late |= Q(workflow_id=workflow_id, waiting_since__lt=now - timedelta(hours=min(limits)))
    done, again = _told(user=user, kind=EventKind.SLA, now=now)
    journeys = list(candidates.filter(late).filter(~done | again)[:SCAN_LIMIT])
    names = _workflow_names({journey.workflow_id for journey in journeys})
    breaches = []
    for row in inbox_rows(user=user, journeys=journeys):
        if not (row.overdue and row.sla_hours and row.waiting_since):
            continue
        event = sla_event(journey_id=row.journey.id, waiting_since=row.waiting_since)
        line = _line(row.journey, name=row.name, step=", ".join(step.label for step in row.steps), now=now,
                     names=names)
        notice = Notice(event=event, kind=EventKind.SLA, journey_id=row.journey.id, since=row.waiting_since,
                        subject=f"SLA of {row.sla_hours} h passed: {line.journey_name}", lines=(line,))
        breaches.append(Breach(notice=notice, breached_at=row.waiting_since + timedelta(hours=row.sla_hours)))
    open_events = claimable(user=user, events=[breach.notice.event for breach in breaches], now=now)
    return [breach for breach in breaches if breach.notice.event in open_events]


def digest_slot(*, now: datetime) -> datetime | None:
    """The digest due now: today's digest hour (in the portal's time zone) once it has passed, for a few hours
    (so a beat that was down at the hour still sends it); None outside that window."""
    local = timezone.localtime(now)
    slot = local.replace(hour=settings.NOTIFICATIONS_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return slot if local - slot < DIGEST_CATCH_UP else None


# After the digest hour, how long a missed digest is still sent the same day.
DIGEST_CATCH_UP: Final = timedelta(hours=6)

