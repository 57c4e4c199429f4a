"""The journey and workflow sync against the sandbox over HTTP, with the database (no worker needed)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import WorkflowRecord
from journeys.models import Journey, JourneyStatus, WaitingStep
from journeys.services.sync import JOURNEYS, journey_sync
from mintportal.mint.errors import MintValidationError
from tests.sandbox.helpers import Api, chain, step
from workflows.models import SyncState
from workflows.sync import SyncLease, workflow_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox=sandbox, token=sandbox.token())


def suspended_journeys(api: Api, count: int) -> tuple[str, list[str]]:
    """A workflow whose journeys wait at a suspend step, and ``count`` journeys of it."""
    workflow = api.create_workflow(chain(step("hold", "suspend"), step("done", "finish")), tags=["scale"])
    return workflow["id"], [api.start(workflow["id"])["journeyId"] for _ in range(count)]


def resume(api: Api, journey_id: str) -> None:
    response = api.post(f"journeys/{journey_id}/resume", json={"stepId": "hold", "input": {"ok": True}})
    assert response.status_code in (200, 202, 204), response.text


def test_the_first_sync_mirrors_every_journey_in_the_sandbox(mint_settings, api, sandbox):
    workflow_id, journey_ids = suspended_journeys(api, 3)

    result = journey_sync()

    assert result.kind == "full" and not result.skipped
    rows = {row.id: row for row in Journey.objects.filter(workflow_id=workflow_id)}
    assert set(rows) == set(journey_ids)
    assert {row.status for row in rows.values()} == {JourneyStatus.ACTIVE}
    assert all(row.waiting_since == row.last_executed_at for row in rows.values())
    assert result.upserted == Journey.objects.count()
    assert SyncState.objects.get(name=JOURNEYS).watermark is not None


def test_sync_picks_up_changes_made_in_the_sandbox(mint_settings, api):
    _, journey_ids = suspended_journeys(api, 2)
    journey_sync()
    resume(api, journey_ids[0])

    journey_sync()

    assert Journey.objects.get(pk=journey_ids[0]).status == JourneyStatus.FINISHED
    assert Journey.objects.get(pk=journey_ids[0]).waiting_since is None
    assert Journey.objects.get(pk=journey_ids[1]).status == JourneyStatus.ACTIVE


def test_an_incremental_sync_asks_mint_only_for_the_journeys_that_changed(mint_settings, api, sandbox):
    mint_settings.MINT_SYNC_OVERLAP_SECONDS = 0
    _, journey_ids = suspended_journeys(api, 5)
    journey_sync()
    for journey_id in journey_ids[:3]:
        resume(api, journey_id)
    sandbox.reset_counters()

    result = journey_sync()

    assert result.kind == "incremental"
    # Mint's timestamps have millisecond precision, so the journey executed in the watermark's millisecond
    # (the last one started) is read again; nothing else is.
    assert 3 <= result.upserted <= 4
    assert sandbox.count("listJourneys") == 1
    assert Journey.objects.filter(pk__in=journey_ids, status=JourneyStatus.FINISHED).count() == 3


def test_an_incremental_sync_pages_through_more_than_one_page_without_losing_any(mint_settings, api, sandbox):
    mint_settings.MINT_SYNC_OVERLAP_SECONDS = 0
    journey_sync()
    _, journey_ids = suspended_journeys(api, 150)
    sandbox.reset_counters()

    result = journey_sync()

    assert Journey.objects.filter(pk__in=journey_ids).count() == 150
    assert sandbox.count("listJourneys") == 2
    assert result.upserted >= 150


def test_a_sync_does_nothing_while_another_run_holds_the_lease(mint_settings, sandbox):
    journey_sync()
    other = SyncLease(JOURNEYS, ttl=timedelta(minutes=5))
    assert other.acquire()
    sandbox.reset_counters()

    result = journey_sync()

    assert result.skipped
    assert sandbox.count("listJourneys") == 0
    other.release()
    assert not journey_sync().skipped


@pytest.mark.django_db(transaction=True)
def test_overlapping_syncs_do_not_run_at_once(mint_settings, api, sandbox):
    suspended_journeys(api, 2)
    # Slow listings keep the first run busy while the second one starts.
    sandbox.add_fault(path=r"^/mint/journeys$", method="GET", latency_ms=400)
    results = []

    def run() -> None:
        try:
            results.append(journey_sync(full=True))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(result.skipped for result in results) == [False, True]


def test_an_expired_lease_of_a_crashed_run_is_taken_over(mint_settings):
    crashed = SyncLease(JOURNEYS, ttl=timedelta(minutes=5))
    assert crashed.acquire()
    SyncState.objects.filter(name=JOURNEYS).update(lease_until=timezone.now() - timedelta(seconds=1))

    assert not journey_sync().skipped


def test_a_full_reconcile_marks_journeys_mint_no_longer_lists_as_gone(mint_settings, api):
    journey_sync()
    Journey.objects.create(id="j-deleted-in-mint", workflow_id="wf", version=1, status="active",
                           seen_at=timezone.now() - timedelta(days=1))

    result = journey_sync(full=True)

    assert result.gone == 1
    assert Journey.objects.get(pk="j-deleted-in-mint").gone_at is not None
    assert Journey.objects.filter(gone_at__isnull=False).count() == 1


def test_a_failed_sync_keeps_the_watermark(mint_settings, api, sandbox):
    journey_sync()
    before = SyncState.objects.get(name=JOURNEYS).watermark
    suspended_journeys(api, 1)
    sandbox.add_fault(path=r"^/mint/journeys$", method="GET", status=400)

    with pytest.raises(MintValidationError):
        journey_sync()

    state = SyncState.objects.get(name=JOURNEYS)
    assert state.watermark == before
    assert state.last_error
    assert state.lease_owner == ""


def test_the_workflow_sync_mirrors_names_and_tags(mint_settings, api):
    workflow = api.create_workflow(chain(step("done", "finish")), tags=["onboarding", "scale"])

    result = workflow_sync()

    mirrored = WorkflowRecord.objects.get(pk=workflow["id"])
    assert mirrored.tags == ["onboarding", "scale"]
    assert mirrored.name == workflow["name"]
    assert result.upserted == WorkflowRecord.objects.count()


def test_a_sync_learns_which_steps_the_waiting_journeys_wait_on(mint_settings, api, sandbox):
    # The listing says only that a journey waits; the inbox needs the step. Without anyone opening a page, the
    # sync's detail reads fill in every waiting journey's WaitingStep rows, once per execution.
    workflow_id, journey_ids = suspended_journeys(api, 6)

    first = journey_sync()

    assert first.details >= 6
    waiting = set(WaitingStep.objects.filter(journey__workflow_id=workflow_id).values_list("journey_id", "step_id"))
    assert waiting == {(journey_id, "hold") for journey_id in journey_ids}
    sandbox.reset_counters()
    resume(api, journey_ids[0])

    again = journey_sync()

    # The resumed journey changed (its step data with it), so its detail is read once; journeys whose detail is
    # current are not read again.
    assert again.details == 1
    assert sandbox.count("getJourney") == 1
    assert not WaitingStep.objects.filter(journey_id=journey_ids[0]).exists()
    assert Journey.objects.get(pk=journey_ids[0]).data["steps"]["hold"] == {"ok": True}
    assert journey_sync().details == 0


def test_detail_reads_stop_at_a_mint_failure_and_the_next_run_goes_on(mint_settings, api, sandbox):
    _, journey_ids = suspended_journeys(api, 3)
    # A 400 is not retried by the client, so the run meets the failure at once.
    sandbox.add_fault(path=r"^/mint/journeys/[^/]+$", method="GET", status=400)

    failed = journey_sync()

    assert failed.details == 0 and not failed.skipped
    assert Journey.objects.filter(pk__in=journey_ids).count() == 3, "the listing part of the run stands"
    sandbox.clear_faults()

    journey_sync()

    assert WaitingStep.objects.filter(journey_id__in=journey_ids, step_id="hold").count() == 3


def test_a_sync_reads_the_data_of_the_journeys_that_changed_and_only_theirs(mint_settings, api, sandbox):
    _, journey_ids = suspended_journeys(api, 4)
    journey_sync()
    sandbox.reset_counters()
    for journey_id, score in zip(journey_ids[:2], (91, 42), strict=True):
        response = api.post(f"journeys/{journey_id}/resume", json={"stepId": "hold", "input": {"score": score}})
        assert response.status_code in (200, 202, 204), response.text

    result = journey_sync()

    assert result.details == 2 and sandbox.count("getJourney") == 2
    assert Journey.objects.get(pk=journey_ids[0]).data == {"steps": {"hold": {"score": 91}}}
    # What the list's data filter then finds, through the same rows.
    from journeys.datafilter import parse_conditions
    from journeys.selectors import JourneyFilters, journey_queryset
    from tests.personas import make_user

    conditions, _ = parse_conditions(["hold.score > 90"])
    root = make_user("sync-root", staff=True)
    root.is_superuser = True
    root.save()
    assert list(journey_queryset(user=root, filters=JourneyFilters(data=conditions))
                .values_list("id", flat=True)) == [journey_ids[0]]


def test_a_sync_reads_at_most_detail_reads_details_and_the_next_run_goes_on(mint_settings, api, sandbox,
                                                                             monkeypatch):
    from journeys.services import sync

    # The session's sandbox holds other tests' journeys too: every one is new to this test's mirror.
    monkeypatch.setattr(sync, "DETAIL_READS", 40)
    _, journey_ids = suspended_journeys(api, 5)
    runs = []
    while not runs or runs[-1][0]:
        sandbox.reset_counters()
        runs.append((journey_sync().details, sandbox.count("getJourney")))
        assert len(runs) < 50, "each run goes on where the last one stopped"

    assert all(details == reads <= 40 for details, reads in runs)
    assert sum(details for details, _ in runs) == Journey.objects.count()
    assert len(runs) > 2, "the sandbox held more than one run's worth of details"
    assert WaitingStep.objects.filter(journey_id__in=journey_ids).count() == 5
