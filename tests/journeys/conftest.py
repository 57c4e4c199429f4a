"""Helpers for the journey page tests: mirror rows made directly in the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from journeys.models import Journey
from journeys.services.mirror import journey_mirror_changed

BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def make_journey(id: str, **fields: Any) -> Journey:
    """A mirror row with sensible defaults; ``fields`` override any column."""
    defaults: dict[str, Any] = {
        "workflow_id": "wf-onboarding",
        "workflow_name": "Onboarding",
        "version": 1,
        "status": "finished",
        "name": f"Journey {id}",
        "created_at": BASE_TIME,
        "last_executed_at": BASE_TIME,
        "seen_at": BASE_TIME,
    }
    defaults.update(fields)
    row = Journey.objects.create(id=id, **defaults)
    # Written behind the mirror services' back, so retire the cached lists the way they would.
    journey_mirror_changed()
    return row


def make_journeys(count: int, *, prefix: str = "j", start: datetime = BASE_TIME, **fields: Any) -> list[Journey]:
    """``count`` rows whose last activity is one minute apart, oldest first."""
    return [
        make_journey(f"{prefix}{index:04d}", last_executed_at=start + timedelta(minutes=index), **fields)
        for index in range(count)
    ]


def journey_queries(client: Client, *args, **kwargs) -> list[str]:
    """The SQL statements on the journeys mirror that one request runs."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(*args, **kwargs).status_code == 200
    return [query["sql"] for query in captured.captured_queries if "journeys_journey" in query["sql"]]
