"""The sweep of journeys the mirror holds as idle, running or active (journeys/services/sync.py, ``journey_sweep``).

A journey cancelled from outside changes status without running: the incremental sync never sees it.
"""

from __future__ import annotations

import math

import pytest

from journeys.models import Journey, JourneyStatus
from journeys.services.sync import SWEEP_STATUSES, SweepResult, journey_sweep, journey_sync
from tests.sandbox.helpers import Api, chain, step

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox=sandbox, token=sandbox.token())


def waiting_journeys(api: Api, count: int) -> list[str]:
    workflow = api.create_workflow(chain(step("hold", "suspend"), step("done", "finish")))
    return [api.start(workflow["id"])["journeyId"] for _ in range(count)]


def cancel(sandbox, journey_id: str) -> None:
    sandbox.control("POST", f"journeys/{journey_id}/cancel")


def not_final_in_mint(api: Api) -> int:
    return sum(api.get("journeys", params={"status": status, "limit": 1}).json()["totalCount"]
               for status in SWEEP_STATUSES)


def test_a_journey_cancelled_from_outside_reaches_the_mirror_through_the_sweep_not_the_sync(
    mint_settings, api, sandbox
):
    # No overlap: the journeys were last executed long before the watermark, as in the field.
    mint_settings.MINT_SYNC_OVERLAP_SECONDS = 0
    ids = waiting_journeys(api, 3)
    journey_sync(full=True)
    cancel(sandbox, ids[1])

    journey_sync()
    assert Journey.objects.get(pk=ids[1]).status == JourneyStatus.ACTIVE

    sandbox.reset_counters()
    results: list[SweepResult] = []
    while Journey.objects.get(pk=ids[1]).status != JourneyStatus.CANCELLED:
        assert len(results) <= math.ceil(not_final_in_mint(api) / 1000), "the sweep never caught the cancellation"
        results.append(journey_sweep())
        assert results[-1].mint_calls <= len(SWEEP_STATUSES) * 10 + results[-1].refreshed

    assert [Journey.objects.get(pk=i).status for i in (ids[0], ids[2])] == [JourneyStatus.ACTIVE] * 2
    # Journeys are read one by one only where Mint stopped listing them as the mirror had them (a tie of
    # creation times across a page boundary may add a needless read; nothing else does).
    refreshed = sum(result.refreshed for result in results)
    assert sandbox.count("getJourney") == refreshed
    assert refreshed <= sum(result.changed for result in results) + len(SWEEP_STATUSES)


def test_the_sweep_is_bounded_per_run_and_covers_every_journey_over_successive_runs(mint_settings, api, sandbox):
    ids = waiting_journeys(api, 4)
    journey_sync(full=True)
    for journey_id in ids:
        cancel(sandbox, journey_id)
    listing_pages = math.ceil(not_final_in_mint(api) / 5) + len(SWEEP_STATUSES)

    runs = 0
    while Journey.objects.filter(pk__in=ids, status=JourneyStatus.CANCELLED).count() < len(ids):
        runs += 1
        assert runs <= listing_pages + 4, "the rolling window never reached every journey"
        sandbox.reset_counters()
        result = journey_sweep(page_size=5, max_pages=2, max_refreshes=2)
        counters = sandbox.counters()
        assert counters.get("listJourneys", 0) <= len(SWEEP_STATUSES) * 2
        assert counters.get("getJourney", 0) <= 2 and result.refreshed <= 2


def test_a_journey_mint_no_longer_has_is_marked_gone_by_the_sweep(mint_settings, api, sandbox):
    waiting_journeys(api, 1)
    journey_sync(full=True)
    mirrored = Journey.objects.filter(status=JourneyStatus.ACTIVE).order_by("pk")[0]
    Journey.objects.create(id="j-only-in-the-mirror", workflow_id=mirrored.workflow_id, version=1,
                           status=JourneyStatus.ACTIVE, created_at=mirrored.created_at, seen_at=mirrored.seen_at)

    for _ in range(math.ceil(not_final_in_mint(api) / 1000) + 1):
        journey_sweep()
        if Journey.objects.get(pk="j-only-in-the-mirror").gone_at is not None:
            break

    assert Journey.objects.get(pk="j-only-in-the-mirror").gone_at is not None
    assert Journey.objects.get(pk=mirrored.pk).gone_at is None
