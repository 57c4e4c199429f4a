"""The workflow graph layout: every arrow points down except loops, which go round the side."""

from __future__ import annotations

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
