"""The one mirror refresh after a write (journeys.services.refresh): a failure leaves the write standing, warns
with Mint's trace id and marks the row stale so the next view reads the journey again."""

from __future__ import annotations

import logging

import pytest

from journeys.models import Journey
from journeys.services.refresh import journey_refresh_after_write
from tests.journeys.conftest import BASE_TIME, make_journey

pytestmark = pytest.mark.django_db


def test_a_refresh_mint_cannot_answer_marks_the_row_stale(mint_settings, caplog: pytest.LogCaptureFixture) -> None:
    make_journey("j-unreadable", status="active", detail_seen_at=BASE_TIME)

    with caplog.at_level(logging.WARNING, logger="journeys.services.refresh"):
        assert journey_refresh_after_write(journey_id="j-unreadable") is None

    assert Journey.objects.get(pk="j-unreadable").detail_seen_at is None
    [record] = [r for r in caplog.records if r.name == "journeys.services.refresh"]
    assert "j-unreadable" in record.getMessage() and "trace_id=" in record.getMessage()
