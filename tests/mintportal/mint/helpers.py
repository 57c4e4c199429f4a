"""Workflow building blocks for the Mint client's tests: unique names, steps and the connections between them."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from mintportal.mint import models


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def step(step_id: str, step_type: str, **properties: Any) -> models.WorkflowStep:
    return models.WorkflowStep(id=step_id, type=step_type, properties=properties or None)


def chain(*step_ids: str, outcomes: dict[str, str] | None = None) -> list[models.WorkflowStepConnection]:
    """Connections from each step to the next; ``outcomes`` names the outcome leaving a step."""
    outcomes = outcomes or {}
    return [
        models.WorkflowStepConnection(source_step_id=a, target_step_id=b, outcome=outcomes.get(a))
        for a, b in itertools.pairwise(step_ids)
    ]
