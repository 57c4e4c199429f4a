"""The workflow graph layout: every arrow points down except loops, which go round the side."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from workflows.graph import workflow_graph


def build(step_ids: list[str], connections: list[tuple[str, str, str | None]], **kwargs):
    steps = [{"id": step_id, "type": "suspend", "displayName": step_id.title()} for step_id in step_ids]
    wired = [{"sourceStepId": a, "targetStepId": b, "outcome": outcome} for a, b, outcome in connections]
    graph = workflow_graph(steps=steps, connections=wired, **kwargs)
    return graph, {node.id: node for node in graph.nodes}


def test_a_step_sits_below_every_step_that_leads_to_it() -> None:
    graph, nodes = build(
        ["apply", "big", "check", "letter", "done"],
        [("apply", "big", None), ("big", "check", "True"), ("big", "letter", "False"),
         ("check", "letter", "Approved"), ("letter", "done", None)],
    )
    assert nodes["apply"].y < nodes["big"].y < nodes["check"].y < nodes["letter"].y < nodes["done"].y
    assert not any(edge.back for edge in graph.edges)
    assert [edge.label for edge in graph.edges if edge.label] == ["True", "False", "Approved"]


def test_the_start_is_the_step_no_connection_targets_even_when_listed_last() -> None:
    _, nodes = build(["end", "start"], [("start", "end", None)])
    assert nodes["start"].y < nodes["end"].y


def test_loops_are_drawn_dashed_round_the_side_and_do_not_disturb_the_layers() -> None:
    graph, nodes = build(
        ["each", "body", "end"], [("each", "body", "Iterate"), ("body", "each", None), ("each", "end", "Done")]
    )
    assert nodes["each"].y < nodes["body"].y and nodes["each"].y < nodes["end"].y
    assert [edge.back for edge in graph.edges] == [False, True, False]
    assert graph.width > max(node.x + node.width for node in graph.nodes)


def test_steps_no_path_reaches_are_still_drawn() -> None:
    graph, nodes = build(["start", "end", "orphan"], [("start", "end", None)])
    assert set(nodes) == {"start", "end", "orphan"}
    assert len(graph.edges) == 1


def test_waiting_and_finished_steps_are_marked() -> None:
    _, nodes = build(["a", "b", "c"], [("a", "b", None), ("b", "c", None)], active={"b"}, states={"a": "done"})
    assert nodes["a"].css == "step step-done"
    assert nodes["b"].css == "step step-active"
    assert nodes["c"].css == "step"


def test_connections_to_unknown_steps_are_ignored() -> None:
    graph, _ = build(["a"], [("a", "ghost", "Done")])
    assert graph.edges == ()
    assert not build([], [])[0].nodes


def test_a_connection_that_skips_a_layer_passes_beside_the_steps_in_between() -> None:
    graph, nodes = build(
        ["big", "check", "letter"], [("big", "check", "True"), ("big", "letter", "False"), ("check", "letter", None)]
    )
    check = nodes["check"]
    skipping = graph.edges[1]
    # The path runs straight down through the middle layer, at an x outside the box of "check".
    passing_x = int(skipping.path.split(" L")[1].split(",")[0])
    assert not check.x <= passing_x <= check.x + check.width


# --- the layout, pinned -------------------------------------------------------------------------------------------
# Each case's whole output (every node's box and every edge's path), as a digest of its repr: any change to the
# layout changes it. A deliberate change of the drawing updates these digests in the same commit.
Case = tuple[list[str], list[tuple[str, str, str | None]], dict[str, Any]]
PINNED_CASES: dict[str, Case] = {
    "branches": (["apply", "big", "check", "letter", "done"],
                 [("apply", "big", None), ("big", "check", "True"), ("big", "letter", "False"),
                  ("check", "letter", "Approved"), ("letter", "done", None)], {}),
    "loop and self-loop": (["each", "body", "retry", "end"],
                           [("each", "body", "Iterate"), ("body", "each", None), ("each", "end", "Done"),
                            ("body", "retry", "Failed"), ("retry", "retry", "Again"), ("retry", "end", None)],
                           {"active": {"retry"}, "states": {"each": "done", "body": "faulted"}}),
    "skips and orphans": (["s", "a", "b", "c", "d", "e", "orphan", "lonely loop"],
                          [("s", "a", "1"), ("s", "b", "2"), ("a", "c", None), ("c", "d", None), ("s", "d", "skip"),
                           ("b", "e", None), ("s", "e", "far"), ("d", "e", None), ("lonely loop", "lonely loop", "x"),
                           ("e", "a", "back")], {}),
    "long names": (["a very long step name that wraps onto several lines and then some more words", "b"],
                   [("a very long step name that wraps onto several lines and then some more words", "b", "Go")],
                   {}),
    "empty": ([], [], {}),
}
PINNED_DIGESTS = {
    "branches": "c4f58dbd097537f5",
    "loop and self-loop": "e84ecece3f43c987",
    "skips and orphans": "f293c9556576af96",
    "long names": "890f7f4635d50766",
    "empty": "973a144b69654336",
}


def layout_digest(case: str) -> str:
    step_ids, connections, kwargs = PINNED_CASES[case]
    graph, _ = build(step_ids, connections, **kwargs)
    return hashlib.sha256(repr(graph).encode()).hexdigest()[:16]


@pytest.mark.parametrize("case", sorted(PINNED_CASES))
def test_the_layout_is_the_pinned_one(case: str) -> None:
    assert layout_digest(case) == PINNED_DIGESTS[case]


def test_wire_models_and_dicts_lay_out_alike() -> None:
    from mintportal.mint import models

    step_ids, connections, _ = PINNED_CASES["skips and orphans"]
    steps = [models.WorkflowStep(id=step_id, type="suspend", display_name=step_id.title()) for step_id in step_ids]
    wired = [models.WorkflowStepConnection(source_step_id=a, target_step_id=b, outcome=outcome)
             for a, b, outcome in connections]
    assert hashlib.sha256(repr(workflow_graph(steps=steps, connections=wired)).encode()).hexdigest()[:16] == \
        layout_digest("skips and orphans")
