"""A real Celery worker process killed with SIGKILL in the middle of a bulk approve: after a restart and beat's
requeue, no journey is lost and none is approved twice.

The worker runs on a Redis of the test's own (tests/redis_server.py), which keeps the killed worker's message
unacknowledged for its visibility timeout (an hour): what brings the job back is ``bulk_job_requeue_stale``, run as
beat would run it once the lease ran out (only the clock is patched).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bulk.models import BulkItem, BulkJob, ItemStatus, JobStatus
from bulk.services import bulk_job_confirm, bulk_job_requeue_stale
from tests.bulk.conftest import prepare
from tests.celery_worker import CeleryWorker, require_worker_services, wait_for, worker_env
from tests.redis_server import publishing_to

JOURNEYS = 12


def done_count(job: BulkJob) -> int:
    return BulkItem.objects.filter(job=job, status__in=ItemStatus.final()).count()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_loses_no_journey_and_approves_none_twice(
    approval_workflow, start, approver, sandbox, settings, redis_server, tmp_path: Path, monkeypatch, mint
):
    require_worker_services(settings)
    workflow = approval_workflow(tags=["onboarding"])
    journeys = [start(workflow, f"K-{n}") for n in range(JOURNEYS)]
    job = prepare(approver, "approve", journeys, reason="bulk")
    # Each journey read takes a while, so the worker is surely mid-job when it is killed.
    sandbox.add_fault(path=r"^/mint/journeys/[^/]+$", method="GET", latency_ms=250)
    sandbox.reset_counters()
    run_dir = tmp_path / "worker"
    run_dir.mkdir()
    env = worker_env(settings=settings, sandbox=sandbox)
    env.update(REDIS_URL=redis_server.url, PORTAL_RUN_DIR=str(run_dir), CACHE_KEY_PREFIX="bulk-crash")
    worker = CeleryWorker(env=env, log_path=run_dir / "worker.log", name="bulkcrash")
    worker.start()
    try:
        with publishing_to(redis_server.url):
            bulk_job_confirm(user=approver, job_id=job.id)
        wait_for(lambda: done_count(job) >= 3, timeout=60, message="the worker to get a few journeys done")
        worker.kill()
        assert done_count(job) < JOURNEYS, "the worker finished before it could be killed"
        sandbox.clear_faults()

        worker.start()
        # Beat's requeue, a lease after the kill: the dead worker's item is re-checked, the rest queued again.
        later = timezone.now() + timedelta(minutes=10)
        monkeypatch.setattr("bulk.services.timezone.now", lambda: later)
        with publishing_to(redis_server.url):
            bulk_job_requeue_stale()
        monkeypatch.undo()
        wait_for(lambda: BulkJob.objects.get(pk=job.id).status == JobStatus.FINISHED, timeout=90,
                 message="the job to finish after the restart")
    finally:
        worker.stop()

    items = list(BulkItem.objects.filter(job=job))
    assert all(item.is_final for item in items)
    moved_on = [journey.id for journey in journeys if not any(step.step_id == "check" for step in
                                                              mint.get_journey(journey.id).active_steps)]
    # Each approval Mint received moved its journey on: none was sent twice, and none was lost.
    assert sandbox.count("approveJourney") == len(moved_on)
    done = {item.journey_id for item in items if item.status == ItemStatus.DONE}
    unknown = [item for item in items if item.status == ItemStatus.UNKNOWN]
    assert done == set(moved_on) - {item.journey_id for item in unknown}
    # Only a decision the worker was sending at the very moment it died can be left unknown.
    assert len(unknown) <= 1 and all("being sent" in item.outcome for item in unknown)
    assert len(moved_on) >= JOURNEYS - len(unknown)
