"""Launches that survive anything: a broker restart, a killed worker, a broker that forgets, Mint's nonsense.

Faults are real: the sandbox's fault injection, a private ``redis-server`` the test stops and starts, a
private filesystem-broker folder, and SIGKILL of a real Celery worker (tests/celery_worker.py).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from launches.models import BulkLaunch, BulkLaunchStatus, Launch, LaunchStatus
from launches.services import launch_create, launch_requeue_stale, launch_start
from tests.celery_worker import CeleryWorker, require_worker_services, wait_for, worker_env
from tests.redis_server import RedisServer, filesystem_broker_options, publishing_to

ROOT = Path(__file__).resolve().parents[2]
INPUT = {"email": "r@example.com", "fullName": "R"}


def start_path(workflow_id: str) -> str:
    return rf"^/mint/workflows/{workflow_id}/journeys$"


def journeys_in_mint(api, workflow_id: str) -> int:
    return api.get("journeys", params={"workflowId": workflow_id, "limit": 1}).json()["totalCount"]


@pytest.fixture
def private_workers(settings, sandbox, tmp_path: Path) -> Iterator[list[CeleryWorker]]:
    """Workers started by the test on a broker of its own; each is stopped at the end."""
    from django.db import connection

    require_worker_services(settings)
    workers: list[CeleryWorker] = []
    yield workers
    for worker in workers:
        worker.stop()
    connection.close()


def new_worker(workers: list[CeleryWorker], *, settings, sandbox, run_dir: Path, redis_url: str | None,
               **extra: str) -> CeleryWorker:
    run_dir.mkdir(parents=True, exist_ok=True)
    env = worker_env(settings=settings, sandbox=sandbox)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(PORTAL_RUN_DIR=str(run_dir), CACHE_KEY_PREFIX=f"private-{run_dir.name}", **extra)
    worker = CeleryWorker(env=env, log_path=run_dir / "worker.log", name=f"private{len(workers)}")
    workers.append(worker)
    worker.start()
    return worker


def launch_state(launch_id) -> Launch:
    return Launch.objects.get(pk=launch_id)


@pytest.mark.django_db
def test_a_success_status_with_an_unreadable_answer_flags_the_launch_for_review_instead_of_failing_it(
    operator, launch_workflow, sandbox
):
    # The sandbox answers 201 with a problem body: a success status whose body is no started journey.
    sandbox.add_fault(path=start_path(launch_workflow.id), method="POST", status=201, times=1)
    launch = Launch.objects.create(key="malformed", workflow_id=launch_workflow.id, input=INPUT, journey_url_ttl=60,
                                   created_by=operator, created_at=timezone.now())

    result = launch_start(launch_id=launch.id)

    assert result.status == LaunchStatus.NEEDS_REVIEW
    assert launch_state(launch.id).status == LaunchStatus.NEEDS_REVIEW
    assert sandbox.count("startJourney") == 1


@pytest.mark.django_db(transaction=True)
def test_a_launch_waiting_on_a_retry_is_started_after_redis_restarts_without_its_message(
    operator, launch_workflow, sandbox, api, settings, redis_server, private_workers, tmp_path, monkeypatch
):
    sandbox.add_fault(path=start_path(launch_workflow.id), method="POST", status=429, retry_after=60, times=1)
    worker = new_worker(private_workers, settings=settings, sandbox=sandbox, run_dir=tmp_path / "w",
                        redis_url=redis_server.url)
    with publishing_to(redis_server.url):
        launch = launch_create(workflow_id=launch_workflow.id, input=INPUT, journey_url_ttl=60, actor=operator)
    waiting = wait_for(lambda: (row := launch_state(launch.id)).attempts == 1 and row.status == LaunchStatus.PENDING
                       and row.retry_at and row, message="the launch to wait on Mint's Retry-After")
    assert waiting.retry_at >= timezone.now() + timedelta(seconds=50)

    # Redis and the worker restart: Redis kept nothing, so the retry the worker held is gone for good.
    worker.kill()
    redis_server.restart()
    assert redis_server.client().dbsize() == 0
    worker.start()

    # The periodic requeue, run as beat would run it a few minutes later (the only thing patched is the clock).
    later = timezone.now() + timedelta(minutes=4)
    monkeypatch.setattr("launches.services.timezone.now", lambda: later)
    with publishing_to(redis_server.url):
        assert launch_requeue_stale() == 1
    monkeypatch.undo()

    started = wait_for(lambda: (row := launch_state(launch.id)).is_final and row, message="the launch to finish")
    assert started.status == LaunchStatus.STARTED
    assert journeys_in_mint(api, launch_workflow.id) == 1


def compose_redis_args() -> tuple[str, ...]:
    """The persistence options of docker-compose.yml's redis service (its ``--dir`` is the test's own)."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"]["command"]
    words = shlex.split(command) if isinstance(command, str) else list(command)
    assert words[0] == "redis-server"
    args, skip = [], False
    for word in words[1:]:
        if skip:
            skip = False
        elif word == "--dir":
            skip = True
        else:
            args.append(word)
    return tuple(args)


@pytest.mark.django_db(transaction=True)
def test_the_compose_redis_keeps_a_queued_launch_across_a_restart(
    operator, launch_workflow, sandbox, api, settings, private_workers, tmp_path
):
    server = RedisServer(workdir=tmp_path / "compose-redis", args=compose_redis_args())
    server.start()
    try:
        with publishing_to(server.url):
            launch = launch_create(workflow_id=launch_workflow.id, input=INPUT, journey_url_ttl=60, actor=operator)
        wait_for(lambda: server.client().llen("celery") == 1, message="the task in the queue")

        server.restart()

        assert server.client().llen("celery") == 1
        new_worker(private_workers, settings=settings, sandbox=sandbox, run_dir=tmp_path / "w", redis_url=server.url)
        started = wait_for(lambda: (row := launch_state(launch.id)).is_final and row, message="the launch to finish")
        assert started.status == LaunchStatus.STARTED
        assert journeys_in_mint(api, launch_workflow.id) == 1
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_launch_gets_the_launch_flagged_within_the_lease_and_a_live_one_is_not(
    operator, launch_workflow, sandbox, api, settings, redis_server, private_workers, tmp_path
):
    settings.LAUNCH_CLAIM_LEASE_SECONDS = 3
    sandbox.add_fault(path=start_path(launch_workflow.id), method="POST", latency_ms=8000, times=1)
    worker = new_worker(private_workers, settings=settings, sandbox=sandbox, run_dir=tmp_path / "w",
                        redis_url=redis_server.url, LAUNCH_CLAIM_LEASE_SECONDS="3")
    with publishing_to(redis_server.url):
        launch = launch_create(workflow_id=launch_workflow.id, input=INPUT, journey_url_ttl=60, actor=operator)
    claimed = wait_for(lambda: (row := launch_state(launch.id)).status == LaunchStatus.STARTING and row,
                       message="the worker to claim the launch")

    # A live worker renews its claim while Mint is slow, so the requeue leaves it alone past the lease.
    wait_for(lambda: launch_state(launch.id).claimed_at > claimed.claimed_at + timedelta(seconds=3), timeout=10,
             message="the claim to be renewed twice")
    with publishing_to(redis_server.url):
        launch_requeue_stale()
    assert launch_state(launch.id).status == LaunchStatus.STARTING

    worker.kill()
    killed_at = time.monotonic()
    with publishing_to(redis_server.url):
        flagged = wait_for(lambda: launch_requeue_stale() and launch_state(launch.id).status, timeout=10,
                           message="the abandoned claim to be flagged")
    assert flagged == LaunchStatus.NEEDS_REVIEW
    assert time.monotonic() - killed_at < 3 + 1 + 2


def queued_starts(queue: Path) -> list[Path]:
    """Messages of ``launch_start`` in a filesystem-broker folder (a file may vanish as a worker takes it)."""
    found = []
    for path in queue.iterdir():
        try:
            if "launch_start" in path.read_text(errors="replace"):
                found.append(path)
        except FileNotFoundError:
            continue
    return found


@pytest.mark.django_db(transaction=True)
def test_the_embedded_worker_recovers_a_retry_its_killed_predecessor_took_from_the_filesystem_broker(
    operator, launch_workflow, sandbox, api, settings, private_workers, tmp_path
):
    run_dir = tmp_path / "embedded"
    options = filesystem_broker_options(run_dir)
    sandbox.add_fault(path=start_path(launch_workflow.id), method="POST", status=429, retry_after=3, times=1)
    worker = new_worker(private_workers, settings=settings, sandbox=sandbox, run_dir=run_dir, redis_url=None)
    with publishing_to("filesystem://", options):
        launch = launch_create(workflow_id=launch_workflow.id, input=INPUT, journey_url_ttl=60, actor=operator)
    wait_for(lambda: (row := launch_state(launch.id)).attempts == 1 and row.status == LaunchStatus.PENDING,
             message="the launch to wait on Mint's Retry-After")
    # The retry's message is fetched (and so deleted) by the worker, which holds it until it falls due.
    queue = Path(str(options["data_folder_in"]))
    wait_for(lambda: not queued_starts(queue), message="the worker to fetch the retry's message")

    worker.kill()
    worker.start()

    started = wait_for(lambda: (row := launch_state(launch.id)).is_final and row, timeout=30,
                       message="the launch to finish after the restart")
    assert started.status == LaunchStatus.STARTED
    assert journeys_in_mint(api, launch_workflow.id) == 1


@pytest.mark.django_db
def test_the_requeue_leaves_a_bulk_launch_alone_while_a_row_waits_on_mints_retry_after(
    operator, launch_workflow, tmp_path
):
    now = timezone.now()
    bulk = BulkLaunch.objects.create(workflow_id=launch_workflow.id, journey_url_ttl=60, created_by=operator,
                                     created_at=now - timedelta(minutes=10), confirmed_at=now - timedelta(minutes=10),
                                     status=BulkLaunchStatus.LAUNCHING, row_count=3)
    row = {"workflow_id": launch_workflow.id, "input": INPUT, "journey_url_ttl": 60, "created_by": operator,
           "created_at": now - timedelta(minutes=10), "bulk": bulk}
    Launch.objects.create(key="b2", row_number=2, status=LaunchStatus.STARTED, journey_id="j-2",
                          claimed_at=now - timedelta(minutes=9), **row)
    waiting = Launch.objects.create(key="b3", row_number=3, status=LaunchStatus.PENDING, attempts=1,
                                    retry_at=now + timedelta(seconds=60), **row)
    Launch.objects.create(key="b4", row_number=4, status=LaunchStatus.PENDING, **row)
    broker = filesystem_broker_options(tmp_path / "broker")
    queue = Path(str(broker["data_folder_in"]))

    with publishing_to("filesystem://", broker):
        assert launch_requeue_stale() == 0
        assert not list(queue.iterdir())

        # The chunk's retry is long overdue: its message was lost, so the chunk is queued again.
        Launch.objects.filter(pk=waiting.pk).update(retry_at=now - timedelta(minutes=5))
        assert launch_requeue_stale() == 1
    assert [path for path in queue.iterdir() if "bulk_launch_run_chunk_task" in path.read_text()]
