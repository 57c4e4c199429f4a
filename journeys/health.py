"""The journey mirror's part in readiness and metrics: how far behind Mint the mirror may be.

The *sync lag* is the time since the last journey sync that succeeded (``SyncState.last_finished_at``, written
only on success): the mirror holds everything Mint had shortly before then. The watermark's age is reported
beside it, but is no measure of health on its own: it is the newest ``lastExecutedAt`` seen, which stands still
whenever no journey runs. Registered with ``mintportal.health`` and ``mintportal.metrics`` in ``apps.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from journeys.services.sync import JOURNEYS
from mintportal.health import CheckResult
from workflows.models import SyncState

# Readiness calls the mirror behind after this many missed syncs (or 5 minutes, whichever is longer).
MISSED_SYNCS = 3


def sync_lag_seconds() -> float | None:
    """Seconds since the last successful journey sync; None before the first one."""
    finished = SyncState.objects.filter(name=JOURNEYS).values_list("last_finished_at", flat=True).first()
    if finished is None:
        return None
    return max(0.0, (timezone.now() - finished).total_seconds())


def check_sync() -> CheckResult:
    """Readiness: the sync lag against ``MINT_SYNC_INTERVAL``; a mirror behind degrades, it never takes the
    instance out (its pages still serve what the mirror holds)."""
    state = SyncState.objects.filter(name=JOURNEYS).values("last_finished_at", "watermark", "last_error").first()
    lag = sync_lag_seconds()
    interval = settings.MINT_SYNC_INTERVAL
    limit = max(MISSED_SYNCS * interval, 300) if interval else None
    detail: dict[str, object] = {"lag_seconds": None if lag is None else round(lag), "max_lag_seconds": limit}
    if state and state["watermark"] is not None:
        detail["watermark_age_seconds"] = round((timezone.now() - state["watermark"]).total_seconds())
    if state and state["last_error"]:
        detail["last_run_failed"] = True
    return CheckResult(ok=lag is not None and (limit is None or lag <= limit), detail=detail)
