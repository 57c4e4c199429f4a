"""The Celery application; tasks live in each app's tasks.py and only wrap services.

Delivery guarantees come from settings (``CELERY_TASK_ACKS_LATE``, ``CELERY_TASK_REJECT_ON_WORKER_LOST``,
prefetch 1): a task is acknowledged only after it ran, so a worker killed mid-task leaves it queued for
another worker. Every task must therefore be safe to run twice; the services they wrap make sure of it.
Beat runs with ``OneRunPerInterval``, so a second beat (two containers, a restart overlapping) does not
double the periodic work.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from celery import Celery
from celery.beat import PersistentScheduler, ScheduleEntry
from celery.signals import worker_ready
from kombu import Producer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mintportal.settings")
logger = logging.getLogger(__name__)

app = Celery("mintportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _create_filesystem_broker_folders(sender: Celery, **kwargs: object) -> None:
    """kombu's filesystem transport (the embedded default) expects its folders to exist already."""
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)

@worker_ready.connect
def _sync_on_worker_start(sender: object, **kwargs: object) -> None:
    """Catches the mirrors up when a worker starts, where settings ask for it (the embedded demo does)."""
    from django.conf import settings

    if settings.MINT_SYNC_ON_WORKER_START:
        app.send_task("workflows.tasks.workflow_sync_task")
        app.send_task("journeys.tasks.journey_sync_task")


@worker_ready.connect
def _recover_launches_on_worker_start(sender: object, **kwargs: object) -> None:
    """On the filesystem broker, which deletes a message as a worker fetches it, a killed worker's tasks are
    gone: the embedded default's only worker recovers the launches and bulk jobs at start
    (``launches.services.launch_recover``, ``bulk.services.bulk_job_recover``).
    Redis keeps unacknowledged messages and redelivers them, so there is nothing to do there."""
    if str(app.conf.broker_url or "").startswith("filesystem://"):
        started = datetime.now(UTC).isoformat()
        app.send_task("launches.tasks.launch_recover_task", args=(started,))
        app.send_task("bulk.tasks.bulk_job_recover_task", args=(started,))


class OneRunPerInterval(PersistentScheduler):
    """Beat's scheduler, guarded so that a periodic task runs once per interval however many beats run.

    Before sending an entry, a beat claims the entry's current slot (``floor(now / interval)``) in the shared
    cache with an atomic add (``SET NX`` on Redis); another beat that comes due in the same slot finds it taken
    and sends nothing. One beat alone never meets a taken slot, because its runs are an interval apart. If the
    cache cannot be reached the entry is sent anyway: every periodic task is safe to run twice, so a doubled
    run is the lesser harm.
    """

    def apply_entry(self, entry: ScheduleEntry, producer: Producer | None = None) -> None:
        if not _claim_run(entry):
            logger.info("beat: %s already sent in this interval by another beat; skipped", entry.name)
            return
        super().apply_entry(entry, producer=producer)


def _claim_run(entry: ScheduleEntry) -> bool:
    from django.core.cache import cache

    run_every = getattr(entry.schedule, "run_every", None)
    if run_every is None:
        return True
    interval = max(1.0, run_every.total_seconds())
    slot = int(time.time() // interval)
    try:
        return bool(cache.add(f"beat-run:{entry.name}:{slot}", 1, timeout=int(interval * 2) + 1))
    except Exception:
        logger.exception("beat: could not claim the run of %s; sending it anyway", entry.name)
        return True


app.conf.beat_scheduler = "mintportal.celery:OneRunPerInterval"
