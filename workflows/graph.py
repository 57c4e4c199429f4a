"""Lays out a workflow's steps and connections as a layered graph for server-rendered SVG.

The start step (the one no connection targets) is the top layer; every other step sits below all the steps
that lead to it (the longest path from the start), so every arrow points down and the flow reads top to
bottom. Connections that lead back to an earlier step (loops, found depth first) are set aside for the
layering and routed around the right-hand side, dashed. Within a layer, steps are ordered by the average
position of the steps that lead to them, which keeps most arrows short and uncrossed.
"""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

NODE_WIDTH = 184
NODE_HEIGHT = 72
H_GAP = 48
V_GAP = 64
MARGIN = 24
LABEL_CHARS = 24
# A step's name wraps onto at most this many lines of LABEL_CHARS; the full name is in the box's tooltip.
LABEL_LINES = 3
LINE_HEIGHT = 15
TYPE_HEIGHT = 14
# The room a connection passing through a layer takes there.
VIA_WIDTH = 12
_VIA = "\x00via:"


@dataclass(frozen=True)
class GraphNode:
    id: str
    label: str
    type: str
    x: int
    y: int
    css: str
    # Room below the name and type for figures drawn on the step (``workflow_graph(band=...)``); kept out of the
    # repr so a graph drawn without figures reads as it always has.
    band: int = field(default=0, repr=False)

    @property
    def lines(self) -> list[str]:
        """The name wrapped at word boundaries (long words are split), the last line shortened with "…"."""
        lines = textwrap.wrap(self.label, LABEL_CHARS, break_long_words=True) or [""]
        if len(lines) > LABEL_LINES:
            last = " ".join(lines[LABEL_LINES - 1:])
            lines = [*lines[: LABEL_LINES - 1], last[: LABEL_CHARS - 1] + "…"]
        return lines

    @property
    def _top(self) -> int:
        # The name's lines and the type below them sit in the middle of the box.
        block = len(self.lines) * LINE_HEIGHT + TYPE_HEIGHT
        return self.y + (NODE_HEIGHT - block) // 2

    @property
    def label_lines(self) -> list[tuple[str, int]]:
        return [(line, self._top + 12 + index * LINE_HEIGHT) for index, line in enumerate(self.lines)]

    @property
    def width(self) -> int:
        return NODE_WIDTH

    @property
    def height(self) -> int:
        return NODE_HEIGHT + self.band

    @property
    def band_lines(self) -> list[int]:
        """The baselines of the lines of text that fit in the band below the step's name and type."""
        return [self.y + NODE_HEIGHT + 4 + line * LINE_HEIGHT for line in range(self.band // LINE_HEIGHT)]

    @property
    def text_x(self) -> int:
        return self.x + NODE_WIDTH // 2

    @property
    def type_y(self) -> int:
        return self._top + len(self.lines) * LINE_HEIGHT + 11


@dataclass(frozen=True)
class GraphEdge:
    path: str
    label: str
    label_x: int
    label_y: int
    back: bool

    @property
    def label_width(self) -> int:
        # Roughly the width of the outcome at the graph's 11 px label font, plus padding.
        return 7 * len(self.label) + 12

    @property
    def label_left(self) -> int:
        return self.label_x - self.label_width // 2

    @property
    def label_top(self) -> int:
        return self.label_y - 13


@dataclass(frozen=True)
class Graph:
    width: int
    height: int
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    @property
    def empty(self) -> bool:
        return not self.nodes


def _field(item: Any, snake: str, camel: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(camel, item.get(snake))
    return getattr(item, snake, None)


def _back_edges(starts: list[str], children: Mapping[str, list[str]]) -> set[tuple[str, str]]:
    """Connections that lead back to a step on the path that reached them (loops), found depth first."""
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 while on the current path, 2 when done
    for start in starts:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(children[start]))]
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(children[child])))
    return back


def _layers(step_ids: list[str], edges: list[tuple[str, str, str]]) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Each step's layer (the longest path to it from the start, loops set aside) and the loop connections."""
    targets = {target for _, target, _ in edges}
    starts = [step for step in step_ids if step not in targets] or step_ids[:1]
    children: dict[str, list[str]] = {step: [] for step in step_ids}
    for source, target, _ in edges:
        children[source].append(target)
    # Steps no start reaches are walked from too, so their own loops are found and they get layers.
    back = _back_edges(starts + step_ids, children)
    forward = [(source, target) for source, target, _ in edges if (source, target) not in back]
    incoming = dict.fromkeys(step_ids, 0)
    for _, target in forward:
        incoming[target] += 1
    layer = dict.fromkeys(step_ids, 0)
    ready = deque(step for step in step_ids if incoming[step] == 0)
    while ready:
        step = ready.popleft()
        for source, target in forward:
            if source == step:
                layer[target] = max(layer[target], layer[step] + 1)
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
    return layer, back


def _width(item: str) -> int:
    return VIA_WIDTH if item.startswith(_VIA) else NODE_WIDTH


def _barycentre(parents: list[str], position: Mapping[str, float], fallback: float) -> float:
    placed = [position[parent] for parent in parents if parent in position]
    return sum(placed) / len(placed) if placed else fallback


Edge = tuple[str, str, str]


@dataclass
class _Layout:
    """The graph between the steps of ``workflow_graph``: what is placed in which layer, and where."""

    step_ids: list[str]
    by_id: dict[str, Any]
    edges: list[Edge]
    loops: set[tuple[str, str]]
    # Layer → the steps and placeholders in it, left to right once ordered.
    rows: dict[int, list[str]]
    # Each item → the items in the layer above that lead to it.
    parents: dict[str, list[str]]
    # Edge index → the placeholders it runs through, top to bottom.
    via: dict[int, list[str]]
    # Each step box's height: NODE_HEIGHT plus the band for figures, if any.
    node_height: int = NODE_HEIGHT


def _steps_and_edges(steps: Iterable[Any], connections: Iterable[Any]) -> tuple[list[str], dict[str, Any], list[Edge]]:
    """The steps with an id (first of each id), by id, and the connections between them as (source, target,
    outcome); a connection naming an unknown step is left out."""
    step_list = [step for step in steps if _field(step, "id", "id")]
    step_ids = list(dict.fromkeys(str(_field(step, "id", "id")) for step in step_list))
    by_id = {str(_field(step, "id", "id")): step for step in step_list}
    edges = []
    for connection in connections:
        source = _field(connection, "source_step_id", "sourceStepId")
        target = _field(connection, "target_step_id", "targetStepId")
        if source in by_id and target in by_id:
            edges.append((source, target, str(_field(connection, "outcome", "outcome") or "")))
    return step_ids, by_id, edges


def _fill_layers(step_ids: list[str], by_id: dict[str, Any], edges: list[Edge]) -> _Layout:
    """Puts each step in its layer and threads a placeholder through each layer a connection skips, so that it
    takes up room there and never passes behind a step's box."""
    layer, loops = _layers(step_ids, edges)
    rows: dict[int, list[str]] = {}
    for step in step_ids:
        rows.setdefault(layer[step], []).append(step)
    parents: dict[str, list[str]] = {step: [] for step in step_ids}
    via: dict[int, list[str]] = {}
    for index, (source, target, _) in enumerate(edges):
        if (source, target) in loops:
            continue
        previous = source
        for depth in range(layer[source] + 1, layer[target]):
            placeholder = f"{_VIA}{index}:{depth}"
            rows[depth].append(placeholder)
            parents[placeholder] = [previous]
            via.setdefault(index, []).append(placeholder)
            previous = placeholder
        parents[target].append(previous)
    return _Layout(step_ids=step_ids, by_id=by_id, edges=edges, loops=loops, rows=rows, parents=parents, via=via)


def _order_layers(layout: _Layout) -> None:
    """Orders each layer below the first by barycentre: an item goes under the average position of what leads
    to it."""
    position: dict[str, float] = {}
    for depth in sorted(layout.rows):
        members = layout.rows[depth]
        if depth > 0:
            order = {item: float(index) for index, item in enumerate(members)}
            members.sort(key=lambda item: _barycentre(layout.parents[item], position, order[item]))
        for index, item in enumerate(members):
            position[item] = float(index)


def _span(members: list[str]) -> int:
    return sum(_width(item) for item in members) + max(len(members) - 1, 0) * H_GAP


def _inner_width(layout: _Layout) -> int:
    return max((_span(members) for members in layout.rows.values()), default=0)


def _size(layout: _Layout) -> tuple[int, int]:
    """The drawing's width (room on the right for loops) and height."""
    layers = len(layout.rows)
    width = _inner_width(layout) + 2 * MARGIN + (80 if layout.loops else 0)
    height = layers * layout.node_height + max(layers - 1, 0) * V_GAP + 2 * MARGIN
    return width, height


def _css(item: str, active: Collection[str], states: Mapping[str, str]) -> str:
    return " ".join(part for part in (
        "step",
        "step-active" if item in active else "",
        f"step-{states[item]}" if item in states else "",
    ) if part)


def _positions(
    layout: _Layout, active: Collection[str], states: Mapping[str, str]
) -> tuple[dict[str, GraphNode], dict[str, int]]:
    """Each step's box, every layer centred, and the x of every item's centre (placeholders included)."""
    inner_width = _inner_width(layout)
    nodes: dict[str, GraphNode] = {}
    centre: dict[str, int] = {}
    for depth, members in layout.rows.items():
        x = MARGIN + (inner_width - _span(members)) // 2
        for item in members:
            centre[item] = x + _width(item) // 2
            if not item.startswith(_VIA):
                step = layout.by_id[item]
                label = str(_field(step, "display_name", "displayName") or _field(step, "name", "name") or item)
                nodes[item] = GraphNode(id=item, label=label, type=str(_field(step, "type", "type") or ""),
                                        x=x, y=MARGIN + depth * (layout.node_height + V_GAP),
                                        css=_css(item, active, states), band=layout.node_height - NODE_HEIGHT)
            x += _width(item) + H_GAP
    return nodes, centre


def _downward_edge(
    index: int, edge: Edge, layout: _Layout, nodes: Mapping[str, GraphNode], centre: Mapping[str, int]
) -> GraphEdge:
    """Down from the source's bottom, through each placeholder's layer, into the target's top."""
    source, target, outcome = edge
    points = [(centre[source], nodes[source].y + layout.node_height)]
    for placeholder in layout.via.get(index, []):
        top = MARGIN + int(placeholder.rsplit(":", 1)[1]) * (layout.node_height + V_GAP)
        points += [(centre[placeholder], top), (centre[placeholder], top + layout.node_height)]
    points.append((centre[target], nodes[target].y - 2))
    path = f"M{points[0][0]},{points[0][1]}"
    for number, ((x1, y1), (x2, y2)) in enumerate(pairwise(points)):
        if number % 2:
            path += f" L{x2},{y2}"
        else:
            bend = (y2 - y1) // 2
            path += f" C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
    (x1, y1), (x2, y2) = points[0], points[1]
    return GraphEdge(path=path, label=outcome, label_x=(x1 + x2) // 2, label_y=(y1 + y2) // 2 + 4, back=False)


def _loop_edge(edge: Edge, nodes: Mapping[str, GraphNode], lane: int) -> GraphEdge:
    """A loop back up: leave on the right, run down the margin's ``lane``, enter the target on the right."""
    source, target, outcome = edge
    a, b = nodes[source], nodes[target]
    x1, y1 = a.x + NODE_WIDTH, a.y + a.height // 2
    x2, y2 = b.x + NODE_WIDTH, b.y + b.height // 2
    if source == target:
        # A step that leads to itself: leave near the top, come back near the bottom.
        y1, y2 = a.y + 16, a.y + a.height - 16
    path = f"M{x1},{y1} C{lane},{y1} {lane},{y2} {x2 + 2},{y2}"
    return GraphEdge(path=path, label=outcome, label_x=lane - 12, label_y=(y1 + y2) // 2 + 4, back=True)


def _route(layout: _Layout, nodes: Mapping[str, GraphNode], centre: Mapping[str, int]) -> list[GraphEdge]:
    lane = MARGIN + _inner_width(layout) + 40
    return [
        _loop_edge(edge, nodes, lane) if edge[:2] in layout.loops
        else _downward_edge(index, edge, layout, nodes, centre)
        for index, edge in enumerate(layout.edges)
    ]


def workflow_graph(
    *,
    steps: Iterable[Any],
    connections: Iterable[Any],
    active: Collection[str] = (),
    states: Mapping[str, str] | None = None,
    band: int = 0,
) -> Graph:
    """Positions every step and routes every connection; ``steps``/``connections`` are wire models or dicts.

    ``active`` step ids are highlighted (what a journey waits on); ``states`` maps step ids to a CSS state
    such as ``done`` or ``faulted`` (from a journey's execution log). ``band`` makes every step box that much
    taller, below its name and type, for figures a page draws there (``GraphNode.band_line``).
    """
    layout = _fill_layers(*_steps_and_edges(steps, connections))
    layout.node_height = NODE_HEIGHT + band
    _order_layers(layout)
    width, height = _size(layout)
    nodes, centre = _positions(layout, set(active), states or {})
    return Graph(width=width, height=height, nodes=tuple(nodes[step] for step in layout.step_ids),
                 edges=tuple(_route(layout, nodes, centre)))
