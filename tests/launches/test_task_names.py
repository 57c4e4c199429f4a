"""launches/services.py queues its own app's tasks by name (tasks.py imports the services, not the reverse)."""

from __future__ import annotations

from launches import services, tasks


def test_the_services_queue_the_launch_tasks_by_the_names_they_are_registered_under() -> None:
    assert tasks.launch_start_task.name == services.LAUNCH_START_TASK
    assert tasks.bulk_launch_run_chunk_task.name == services.BULK_LAUNCH_CHUNK_TASK
