"""Celery task names: each task is named after the service it runs plus ``_task`` and registered under its dotted
path, and every task name written in the portal's code (the beat schedule, ``send_task``, queued signatures)
names a registered task, so that a renamed task cannot leave a caller sending messages no worker takes."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings

from mintportal.celery import app

ROOT = Path(__file__).resolve().parent.parent
PORTAL_PACKAGES = (
    "mintportal", "accounts", "workflows", "privacy", "journeys", "savedviews", "launches", "approvals", "bulk",
    "notifications", "compliance", "operations", "sso",
)
TASK_NAME = re.compile(r"^(?:" + "|".join(PORTAL_PACKAGES) + r")\.tasks\.\w+$")


def registered() -> set[str]:
    # What a worker's autodiscovery imports: every app's tasks module.
    for package in PORTAL_PACKAGES:
        if (ROOT / package / "tasks.py").exists():
            importlib.import_module(f"{package}.tasks")
    return {name for name in app.tasks if not name.startswith("celery.")}


def task_names_in_code() -> list[tuple[str, int, str]]:
    """(file, line, name) of every string in the portal's code that looks like a task's dotted name."""
    found = []
    for package in PORTAL_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and TASK_NAME.match(node.value):
                    found.append((path.relative_to(ROOT).as_posix(), node.lineno, node.value))
    return found


def test_every_task_is_registered_under_its_dotted_path_and_ends_in_task() -> None:
    for name in registered():
        task = app.tasks[name]
        assert name == f"{task.__module__}.{task.__name__}"
        assert name.endswith("_task"), name


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_names_a_registered_task(entry: str) -> None:
    assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in registered()


def test_every_task_name_written_in_the_code_is_registered() -> None:
    names = registered()
    unknown = [f"{path}:{line}: {name}" for path, line, name in task_names_in_code() if name not in names]
    assert not unknown, "task names no worker registers:\n" + "\n".join(unknown)
