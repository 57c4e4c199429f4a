"""The mirror refresh after a write: one function, one failure policy, for every service that changes a journey
in Mint (continue, decide, launch)."""

from __future__ import annotations

import logging

from journeys.models import Journey
from journeys.services.mirror import journey_mirror_refresh
from mintportal.mint import errors, get_client
from mintportal.mint import models as mint

logger = logging.getLogger(__name__)


def journey_refresh_after_write(*, journey_id: str) -> mint.JourneyDetail | None:
    """Re-reads the journey a write just changed and writes its mirror row, so that lists and the inbox show
    the change now; returns the journey as Mint describes it.

    The write stands whatever happens here. When Mint cannot answer, this logs a warning with Mint's trace id,
    marks the row stale (``detail_seen_at`` cleared, so the next view or sync reads the detail again) and
    returns None.
    """
    try:
        journey = get_client().get_journey(journey_id)
    except errors.MintError as exc:
        logger.warning("could not refresh journey %s after a write: %s trace_id=%s",
                       journey_id, type(exc).__name__, exc.trace_id or "-")
        Journey.objects.filter(pk=journey_id).update(detail_seen_at=None)
        return None
    journey_mirror_refresh(journey=journey)
    return journey
