"""After retention, a later sync of Mint's listing must not bring the clear name back into the mirror."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from compliance.services.retention import retention_apply
from journeys.models import Journey, JourneyStatus
from journeys.services.mirror import journey_mirror_upsert
from mintportal.mint import models as mint
from tests.compliance.test_retention import NOW, make_journey

pytestmark = pytest.mark.django_db


def test_a_listing_sync_after_retention_keeps_the_name_masked() -> None:
    ended = NOW - timedelta(days=400)
    make_journey("j-kari", name="Onboarding – Kari Nordmann", ended=ended)
    retention_apply(now=NOW)
    assert Journey.objects.get(pk="j-kari").name == "Onboarding – K*** N***"
    summary = mint.JourneySummary.model_validate({
        "id": "j-kari", "workflowId": "wf-a", "version": 1, "status": JourneyStatus.FINISHED,
        "name": "Onboarding – Kari Nordmann", "createdAt": (ended - timedelta(days=1)).isoformat(),
        "finishedAt": ended.isoformat(), "pendingSteps": False,
    })
    journey_mirror_upsert(summaries=[summary], seen_at=datetime.now(UTC))
    assert Journey.objects.get(pk="j-kari").name == "Onboarding – K*** N***"
