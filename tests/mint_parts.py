"""Workflow building blocks as the Mint client's models (``mintportal.mint.models``): unique names, steps and the
connections between them. tests/sandbox/helpers.py has the same as plain JSON for the sandbox's own tests."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from mintportal.mint import models


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def step(step_id: str, step_type: str, **properties: Any) -> models.WorkflowStep:
    return models.WorkflowStep(id=step_id, type=step_type, properties=properties or None)


def link(source: str, target: str, outcome: str | None = None) -> models.WorkflowStepConnection:
    return models.WorkflowStepConnection(source_step_id=source, target_step_id=target, outcome=outcome)


def chain(*step_ids: str, outcomes: dict[str, str] | None = None) -> list[models.WorkflowStepConnection]:
    """Connections from each step to the next; ``outcomes`` names the outcome leaving a step."""
    outcomes = outcomes or {}
    return [link(a, b, outcomes.get(a)) for a, b in itertools.pairwise(step_ids)]
