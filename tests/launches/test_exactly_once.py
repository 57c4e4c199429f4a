"""The launch invariant, checked with Hypothesis over random histories of deliveries, faults, dead workers,
passing time, requeues and restarts, against the real sandbox:

- each launch starts at most one journey, and a journey started by a worker that died before recording it
  is never followed by a second one (that launch ends *needs review*);
- every launch not final is eventually finished or flagged, once Mint answers again and beat runs.

Only the clock is patched. Deliveries run the service the Celery task wraps; the requeue and recovery publish
their messages to a private filesystem-broker folder. During the history each "deliver" step stands for a
message (the launch's own, or a retry); afterwards every message a dead worker held is taken as lost, and only
what the requeue and the recovery queued is delivered.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from launches.models import Launch, LaunchStatus
from launches.services import (
    LaunchRetryLater,
    _claim,
    launch_recover,
    launch_requeue_stale,
    launch_start,
)
from mintportal.mint import get_client
from tests.redis_server import filesystem_broker_options, publishing_to

LAUNCHES = 3
# Mint's answers a delivery may meet: fine, rate limited, unavailable, an ambiguous 500, a success status with
# a body that is no started journey, a plain refusal.
ANSWERS = (None, 429, 503, 500, 201, 403)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(0, LAUNCHES - 1), st.sampled_from(ANSWERS)),
        st.tuples(st.just("die_before_call"), st.integers(0, LAUNCHES - 1)),
        st.tuples(st.just("die_after_call"), st.integers(0, LAUNCHES - 1)),
        st.tuples(st.just("wait"), st.integers(1, 900)),
        st.tuples(st.just("requeue")),
        st.tuples(st.just("restart")),
    ),
    max_size=14,
)


def queued_launches(queue: Path) -> list[str]:
    """Takes the ``launch_start_task`` messages out of a filesystem-broker folder, oldest first: their launch ids."""
    ids = []
    for message in sorted(queue.iterdir()):
        envelope = json.loads(message.read_text())
        if envelope["headers"]["task"] == "launches.tasks.launch_start_task":
            ids.append(json.loads(base64.b64decode(envelope["body"]))[0][0])
        message.unlink()
    return ids


class Clock:
    """``timezone.now`` for the test: real time plus whatever the history has waited."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.real = timezone.now

    def __call__(self):
        return self.real() + self.offset


@pytest.mark.django_db
@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=steps)
def test_each_launch_starts_at_most_one_journey_and_every_launch_ends_finished_or_flagged(
    history, operator, launch_workflow, sandbox, api, settings
):
    settings.MINT_MAX_RETRIES = 0
    settings.MINT_BREAKER_FAILURES = 1000
    path = rf"^/mint/workflows/{launch_workflow.id}/journeys$"
    before = api.get("journeys", params={"workflowId": launch_workflow.id, "limit": 1}).json()["totalCount"]
    created = timezone.now() - timedelta(minutes=5)
    launches = [
        Launch.objects.create(key=uuid.uuid4().hex, workflow_id=launch_workflow.id, input={"email": "x@example.com",
                              "fullName": f"L{index}"}, journey_url_ttl=60, created_by=operator, created_at=created)
        for index in range(LAUNCHES)
    ]
    ids = [launch.id for launch in launches]
    died_after_call: set = set()
    clock = Clock()
    folder = Path(tempfile.mkdtemp(prefix="exactly-once-"))
    broker = filesystem_broker_options(folder)
    queue = Path(str(broker["data_folder_in"]))

    def deliver(launch_id, answer: int | None = None) -> None:
        if answer is not None:
            sandbox.add_fault(path=path, method="POST", status=answer, retry_after=1, times=1)
        try:
            launch_start(launch_id=launch_id, final_attempt=False, refresh_mirror=False)
        except LaunchRetryLater:
            pass
        finally:
            sandbox.clear_faults()

    with mock.patch("django.utils.timezone.now", clock), publishing_to("filesystem://", broker):
        for step in history:
            match step:
                case ("deliver", index, answer):
                    deliver(ids[index], answer)
                case ("die_before_call", index):
                    _claim(ids[index], timezone.now())
                case ("die_after_call", index):
                    launch = Launch.objects.get(pk=ids[index])
                    if _claim(launch.id, timezone.now()):
                        get_client().start_journey(launch.workflow_id, input=launch.input, journey_url_ttl=60)
                        died_after_call.add(launch.id)
                case ("wait", seconds):
                    clock.offset += timedelta(seconds=seconds)
                case ("requeue",):
                    launch_requeue_stale()
                case ("restart",):
                    # The embedded worker restarts: everything claimed before now belonged to a dead worker.
                    launch_recover(claimed_before=timezone.now())

        # Eventually: Mint answers again, and beat's requeue runs once the leases ran out and the retries fell
        # due; only the messages queued by the requeue and the recovery are delivered.
        queued_launches(queue)
        for _ in range(3):
            clock.offset += timedelta(minutes=10)
            launch_requeue_stale()
            for launch_id in queued_launches(queue):
                deliver(launch_id)
    shutil.rmtree(folder)

    final = {launch.id: launch for launch in Launch.objects.filter(pk__in=ids)}
    assert all(launch.is_final for launch in final.values()), {str(k): v.status for k, v in final.items()}
    started = [launch for launch in final.values() if launch.status == LaunchStatus.STARTED]
    assert len({launch.journey_id for launch in started}) == len(started)
    for launch_id in died_after_call:
        assert final[launch_id].status == LaunchStatus.NEEDS_REVIEW
    journeys = api.get("journeys", params={"workflowId": launch_workflow.id, "limit": 1}).json()["totalCount"]
    assert journeys - before == len(started) + len(died_after_call)
