"""What the operations page shows, read from the portal's own data only: never a call to Mint.

- the syncs' progress (``workflows.SyncState``) and the journey mirror's lag (``journeys.health``);
- the background queue: the tasks waiting in the broker (webhook refreshes, launches and syncs share one
  queue, so they are counted together) and the webhook events processed lately (``WebhookEvent`` holds an
  event's id from the moment its task starts; events still queued exist only as broker messages);
- the launch queue (``launches.Launch``): launches not yet final, the oldest one's age, retries falling due,
  and launches flagged for review;
- each group's circuit breaker (``mintportal.mint.breaker``, read from the shared cache);
- recent failures: audit events whose outcome is failed or unknown, with Mint's trace id when it gave one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from celery import current_app
from django.db.models import Count, Min, Q
from django.utils import timezone

from accounts.models import AuditEvent
from journeys.health import sync_lag_seconds
from journeys.models import WebhookEvent
from launches.models import Launch, LaunchStatus
from mintportal.mint import get_client
from workflows.models import SyncState

logger = logging.getLogger(__name__)

RECENT_FAILURES: Final = 20
WEBHOOK_WINDOW: Final = timedelta(hours=1)
# The broker is asked with short timeouts: the page reports "unknown" rather than wait on a broker outage.
BROKER_TIMEOUT: Final = 1


@dataclass(frozen=True)
class SyncRow:
    name: str
    last_finished_at: datetime | None
    last_started_at: datetime | None
    running: bool
    last_error: str


@dataclass(frozen=True)
class LaunchQueue:
    pending: int
    starting: int
    oldest_waiting_since: datetime | None
    retries_due: int
    needs_review: int

    @property
    def depth(self) -> int:
        return self.pending + self.starting


@dataclass(frozen=True)
class WebhookActivity:
    processed_recently: int
    last_processed_at: datetime | None
    # Tasks waiting in the broker's queue; None when the broker could not be asked.
    queued_tasks: int | None


@dataclass(frozen=True)
class OperationsOverview:
    now: datetime
    sync_lag_seconds: float | None
    syncs: list[SyncRow]
    launches: LaunchQueue
    webhooks: WebhookActivity
    breakers: dict[str, str]
    failures: list[AuditEvent]


def sync_rows(*, now: datetime) -> list[SyncRow]:
    """Every sync's last start and success, whether a run holds its lease now, and its last error."""
    return [
        SyncRow(name=state.name, last_finished_at=state.last_finished_at, last_started_at=state.last_started_at,
                running=bool(state.lease_owner and state.lease_until and state.lease_until > now),
                last_error=state.last_error)
        for state in SyncState.objects.order_by("name")
    ]


def launch_queue(*, now: datetime) -> LaunchQueue:
    """Launches waiting to start (pending) or being started (starting), in one query."""
    waiting = Q(status__in=[LaunchStatus.PENDING, LaunchStatus.STARTING])
    figures = Launch.objects.aggregate(
        pending=Count("id", filter=Q(status=LaunchStatus.PENDING)),
        starting=Count("id", filter=Q(status=LaunchStatus.STARTING)),
        oldest=Min("created_at", filter=waiting),
        retries_due=Count("id", filter=Q(status=LaunchStatus.PENDING, retry_at__lte=now)),
        needs_review=Count("id", filter=Q(status=LaunchStatus.NEEDS_REVIEW)),
    )
    return LaunchQueue(pending=figures["pending"], starting=figures["starting"],
                       oldest_waiting_since=figures["oldest"], retries_due=figures["retries_due"],
                       needs_review=figures["needs_review"])


def broker_queue_length() -> int | None:
    """Messages waiting in the default Celery queue, or None when the broker does not answer at once."""
    try:
        with current_app.connection_for_read(connect_timeout=BROKER_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0,
                                         timeout=BROKER_TIMEOUT * 2)
            # Every kombu transport's channel declares queues; the StdChannel stub names only the shared base.
            channel = connection.default_channel
            declared = channel.queue_declare(queue=current_app.conf.task_default_queue)  # type: ignore[attr-defined]
            return int(declared.message_count)
    except Exception as exc:  # noqa: BLE001 - any broker failure only leaves the figure unknown
        logger.info("operations: the broker's queue could not be read (%s)", type(exc).__name__)
        return None


def webhook_activity(*, now: datetime) -> WebhookActivity:
    recent = WebhookEvent.objects.filter(received_at__gte=now - WEBHOOK_WINDOW)
    last = WebhookEvent.objects.order_by("-received_at").values_list("received_at", flat=True).first()
    return WebhookActivity(processed_recently=recent.count(), last_processed_at=last,
                           queued_tasks=broker_queue_length())


def recent_failures(*, limit: int = RECENT_FAILURES) -> list[AuditEvent]:
    """The newest audit events that failed or whose outcome is unknown (Mint's trace id where it gave one)."""
    outcomes = [AuditEvent.Outcome.FAILED, AuditEvent.Outcome.UNKNOWN]
    return list(AuditEvent.objects.filter(outcome__in=outcomes).order_by("-at", "-id")[:limit])


def operations_overview(*, now: datetime | None = None) -> OperationsOverview:
    """Everything the operations page shows, from the database, the cache and the broker; never Mint."""
    now = now or timezone.now()
    return OperationsOverview(
        now=now, sync_lag_seconds=sync_lag_seconds(), syncs=sync_rows(now=now), launches=launch_queue(now=now),
        webhooks=webhook_activity(now=now), breakers=get_client().breakers.states(), failures=recent_failures(),
    )
