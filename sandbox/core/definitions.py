"""Validation of workflow definitions (create and update) and the graph the engine walks.

A definition is valid when every field meets the reference's limits and its graph makes sense: known step
types, unique step ids, connections between existing steps with outcomes their source step type has, and
exactly one start step (a step that no connection targets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.core.steptypes import STEP_TYPES, check_properties
from sandbox.core.validation import Checker

MAX_STEPS = 250
MAX_STEP_ID_LENGTH = 50


@dataclass(frozen=True)
class WorkflowDefinition:
    """A validated create/update body, in wire shape (what is stored and answered)."""

    name: str
    description: str | None
    steps: list[dict[str, Any]]
    connections: list[dict[str, Any]] | None
    variables: dict[str, Any] | None
    tags: list[str] | None
    input_parameters: list[dict[str, Any]] | None


def parse_definition(body: dict[str, Any]) -> WorkflowDefinition:
    """The definition in ``body``; raises a 400 problem naming every invalid field or graph problem."""
    checker = Checker()
    name = checker.string(body, "name", required=True, nullable=False, max_length=255)
    description = checker.string(body, "description", max_length=5000)
    steps = _check_steps(body, checker)
    connections = _check_connections(body, steps, checker)
    variables = checker.obj(body, "variables")
    tags = checker.array(body, "tags")
    for index, tag in enumerate(tags or []):
        if not isinstance(tag, str):
            checker.add(f"tags[{index}]", "Must be a string.")
    input_parameters = _check_input_parameters(body, checker)
    if steps is not None and not checker.has_error("steps") and not checker.has_error("connections"):
        _check_single_start(steps, connections or [], checker)
    checker.raise_if_invalid()
    return WorkflowDefinition(
        name=name or "",
        description=description,
        steps=steps or [],
        connections=connections,
        variables=variables,
        tags=tags,
        input_parameters=input_parameters,
    )


def _check_steps(body: dict[str, Any], checker: Checker) -> list[dict[str, Any]] | None:
    raw_steps = checker.array(body, "steps", required=True, max_items=MAX_STEPS)
    if raw_steps is None:
        return None
    steps: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path, raw in checker.objects(raw_steps, "steps"):
        step_id = checker.string(raw, "id", f"{path}.id", required=True, max_length=MAX_STEP_ID_LENGTH)
        step_type = checker.string(raw, "type", f"{path}.type", required=True)
        if step_type is not None and step_type not in STEP_TYPES:
            checker.add(f"{path}.type", f"Unknown step type {step_type!r}; see GET /step-types.")
            step_type = None
        if step_id is not None:
            if step_id in seen:
                checker.add(f"{path}.id", f"Duplicate step id {step_id!r}.")
            seen.add(step_id)
        step_name = checker.string(raw, "name", f"{path}.name", max_length=255)
        display_name = checker.string(raw, "displayName", f"{path}.displayName", max_length=255)
        step_description = checker.string(raw, "description", f"{path}.description", max_length=5000)
        properties = checker.obj(raw, "properties", f"{path}.properties")
        if step_type is not None and not checker.has_error(f"{path}.properties"):
            check_properties(step_type, properties, f"{path}.properties", checker)
        steps.append({
            "id": step_id,
            "type": step_type,
            "name": step_name,
            "displayName": display_name,
            "description": step_description,
            "properties": properties,
        })
    return steps


def _check_connections(body: dict[str, Any], steps: list[dict[str, Any]] | None,
                       checker: Checker) -> list[dict[str, Any]] | None:
    raw_connections = checker.array(body, "connections")
    if raw_connections is None:
        return None
    types_by_id = {step["id"]: step["type"] for step in steps or [] if step["id"] is not None}
    connections: list[dict[str, Any]] = []
    for path, raw in checker.objects(raw_connections, "connections"):
        source = checker.string(raw, "sourceStepId", f"{path}.sourceStepId", required=True,
                                max_length=MAX_STEP_ID_LENGTH)
        target = checker.string(raw, "targetStepId", f"{path}.targetStepId", required=True,
                                max_length=MAX_STEP_ID_LENGTH)
        outcome = checker.string(raw, "outcome", f"{path}.outcome", max_length=100)
        if steps is not None:
            if source is not None and source not in types_by_id:
                checker.add(f"{path}.sourceStepId", f"No step has the id {source!r}.")
            if target is not None and target not in types_by_id:
                checker.add(f"{path}.targetStepId", f"No step has the id {target!r}.")
            source_type = STEP_TYPES.get(types_by_id.get(source) or "")
            if source_type is not None:
                if not source_type.outcomes:
                    checker.add(f"{path}.sourceStepId",
                                f"A {source_type.type!r} step ends the journey and has no outcomes to connect.")
                elif outcome is not None and outcome not in source_type.outcomes:
                    checker.add(f"{path}.outcome", f"A {source_type.type!r} step has no outcome {outcome!r}; "
                                f"its outcomes are: {', '.join(source_type.outcomes)}.")
        connections.append({"sourceStepId": source, "targetStepId": target, "outcome": outcome})
    return connections


def _check_input_parameters(body: dict[str, Any], checker: Checker) -> list[dict[str, Any]] | None:
    raw = checker.array(body, "inputParameters")
    if raw is None:
        return None
    parameters: list[dict[str, Any]] = []
    for path, item in checker.objects(raw, "inputParameters"):
        name = checker.string(item, "name", f"{path}.name", required=True, nullable=False, min_length=1,
                              max_length=100)
        parameters.append({"name": name})
    return parameters


def _check_single_start(steps: list[dict[str, Any]], connections: list[dict[str, Any]], checker: Checker) -> None:
    targets = {connection["targetStepId"] for connection in connections}
    starts = [step["id"] for step in steps if step["id"] not in targets]
    if len(starts) != 1:
        found = ", ".join(repr(s) for s in starts) if starts else "none"
        checker.add("steps", f"Exactly one step must be the start step (a step no connection targets); found {found}.")


@dataclass(frozen=True)
class Graph:
    """A stored definition indexed for the engine."""

    steps: dict[str, dict[str, Any]]
    outgoing: dict[str, list[dict[str, Any]]]
    start: str | None

    @classmethod
    def build(cls, steps: list[dict[str, Any]], connections: list[dict[str, Any]] | None) -> Graph:
        by_id = {step["id"]: step for step in steps}
        outgoing: dict[str, list[dict[str, Any]]] = {}
        targets = set()
        for connection in connections or []:
            outgoing.setdefault(connection["sourceStepId"], []).append(connection)
            targets.add(connection["targetStepId"])
        starts = [step["id"] for step in steps if step["id"] not in targets]
        return cls(steps=by_id, outgoing=outgoing, start=starts[0] if len(starts) == 1 else None)

    def next_step(self, step_id: str, outcome: str | None, *, exact: bool = False) -> str | None:
        """The step after ``step_id`` for ``outcome``: a connection with that outcome, else (unless ``exact``)
        one without an outcome. None when the path ends here."""
        fallback = None
        for connection in self.outgoing.get(step_id, []):
            if connection["outcome"] == outcome and outcome is not None:
                return connection["targetStepId"]
            if connection["outcome"] is None and fallback is None:
                fallback = connection["targetStepId"]
        return None if exact else fallback
