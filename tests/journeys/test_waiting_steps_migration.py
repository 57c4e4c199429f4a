"""journeys 0006/0007: the waiting steps stored as JSON on each mirror row become WaitingStep rows, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from journeys.models import Journey, WaitingStep

BEFORE = ("journeys", "0005_sync_state_moved")
SEEN = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def migrate_everything() -> None:
    # Every app, not only journeys: going back also unapplied the migrations of apps that depend on journeys'.
    call_command("migrate", verbosity=0)


def historical_journey() -> Any:
    # The model as migration 0005 left it (with active_steps), which the current model class no longer is.
    return MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("journeys", "Journey")


@pytest.mark.django_db(transaction=True)
def test_migrating_turns_each_journeys_json_steps_into_rows_and_back() -> None:
    call_command("migrate", *BEFORE, verbosity=0)
    try:
        old = historical_journey()
        old.objects.bulk_create([
            old(id="waits-twice", workflow_id="wf", version=1, status="active", seen_at=SEEN,
                active_steps=[{"stepId": "hold", "stepType": "suspend"},
                              {"stepId": "check", "stepType": "require-approval"}]),
            old(id="waits-not", workflow_id="wf", version=1, status="finished", seen_at=SEEN, active_steps=[]),
        ])
    finally:
        migrate_everything()

    steps = WaitingStep.objects.order_by("journey_id", "position")
    assert [(step.journey_id, step.step_id, step.step_type) for step in steps] == [
        ("waits-twice", "hold", "suspend"), ("waits-twice", "check", "require-approval")]
    assert list(Journey.objects.filter(waiting_steps__step_type="require-approval").values_list("id", flat=True)) \
        == ["waits-twice"]

    call_command("migrate", *BEFORE, verbosity=0)
    try:
        assert historical_journey().objects.get(pk="waits-twice").active_steps == [
            {"stepId": "hold", "stepType": "suspend"}, {"stepId": "check", "stepType": "require-approval"}]
    finally:
        migrate_everything()
