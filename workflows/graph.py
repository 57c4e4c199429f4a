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
from dataclasses import dataclass
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
        return NODE_HEIGHT

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
    incoming = {step: 0 for step in step_ids}
    for _, target in forward:
        incoming[target] += 1
    layer = {step: 0 for step in step_ids}
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


def workflow_graph(
    *,
    steps: Iterable[Any],
    connections: Iterable[Any],
    active: Collection[str] = (),
    states: Mapping[str, str] | None = None,
) -> Graph:
    """Positions every step and routes every connection; ``steps``/``connections`` are wire models or dicts.

    ``active`` step ids are highlighted (what a journey waits on); ``states`` maps step ids to a CSS state
    such as ``done`` or ``faulted`` (from a journey's execution log).
    """
    step_list = [step for step in steps if _field(step, "id", "id")]
    step_ids = list(dict.fromkeys(str(_field(step, "id", "id")) for step in step_list))
    by_id = {str(_field(step, "id", "id")): step for step in step_list}
    edges = []
    for connection in connections:
        source = _field(connection, "source_step_id", "sourceStepId")
        target = _field(connection, "target_step_id", "targetStepId")
        if source in by_id and target in by_id:
            edges.append((source, target, str(_field(connection, "outcome", "outcome") or "")))
    layer, loops = _layers(step_ids, edges)

    # A connection that skips layers runs through a thin placeholder in each layer it crosses, so that it
    # takes up room there and never passes behind a step's box.
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
    position: dict[str, float] = {}
    for depth in sorted(rows):
        members = rows[depth]
        if depth > 0:
            # Barycentre ordering: an item goes under the average position of what leads to it.
            order = {item: float(index) for index, item in enumerate(members)}
            members.sort(key=lambda item: _barycentre(parents[item], position, order[item]))
        for index, item in enumerate(members):
            position[item] = float(index)

    def span(members: list[str]) -> int:
        return sum(_width(item) for item in members) + max(len(members) - 1, 0) * H_GAP

    inner_width = max((span(members) for members in rows.values()), default=0)
    width = inner_width + 2 * MARGIN + (80 if loops else 0)
    height = len(rows) * NODE_HEIGHT + max(len(rows) - 1, 0) * V_GAP + 2 * MARGIN
    active_ids = set(active)
    states = states or {}

    nodes: dict[str, GraphNode] = {}
    centre: dict[str, int] = {}
    for depth, members in rows.items():
        x = MARGIN + (inner_width - span(members)) // 2
        for item in members:
            centre[item] = x + _width(item) // 2
            if not item.startswith(_VIA):
                step = by_id[item]
                label = str(_field(step, "display_name", "displayName") or _field(step, "name", "name") or item)
                css = " ".join(part for part in (
                    "step",
                    "step-active" if item in active_ids else "",
                    f"step-{states[item]}" if item in states else "",
                ) if part)
                nodes[item] = GraphNode(id=item, label=label, type=str(_field(step, "type", "type") or ""),
                                        x=x, y=MARGIN + depth * (NODE_HEIGHT + V_GAP), css=css)
            x += _width(item) + H_GAP

    routed = []
    for index, (source, target, outcome) in enumerate(edges):
        a, b = nodes[source], nodes[target]
        if (source, target) not in loops:
            # Down from the source's bottom, through each placeholder's layer, into the target's top.
            points = [(centre[source], a.y + NODE_HEIGHT)]
            for placeholder in via.get(index, []):
                top = MARGIN + int(placeholder.rsplit(":", 1)[1]) * (NODE_HEIGHT + V_GAP)
                points += [(centre[placeholder], top), (centre[placeholder], top + NODE_HEIGHT)]
            points.append((centre[target], b.y - 2))
            path = f"M{points[0][0]},{points[0][1]}"
            for number, ((x1, y1), (x2, y2)) in enumerate(zip(points, points[1:], strict=False)):
                if number % 2:
                    path += f" L{x2},{y2}"
                else:
                    bend = (y2 - y1) // 2
                    path += f" C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
            (x1, y1), (x2, y2) = points[0], points[1]
            routed.append(GraphEdge(path=path, label=outcome, label_x=(x1 + x2) // 2,
                                    label_y=(y1 + y2) // 2 + 4, back=False))
        else:
            # A loop back up: leave on the right, run down the margin, enter the target on the right.
            x1, y1 = a.x + NODE_WIDTH, a.y + NODE_HEIGHT // 2
            x2, y2 = b.x + NODE_WIDTH, b.y + NODE_HEIGHT // 2
            if source == target:
                # A step that leads to itself: leave near the top, come back near the bottom.
                y1, y2 = a.y + 16, a.y + NODE_HEIGHT - 16
            lane = MARGIN + inner_width + 40
            path = f"M{x1},{y1} C{lane},{y1} {lane},{y2} {x2 + 2},{y2}"
            routed.append(GraphEdge(path=path, label=outcome, label_x=lane - 12,
                                    label_y=(y1 + y2) // 2 + 4, back=True))
    return Graph(width=width, height=height, nodes=tuple(nodes[s] for s in step_ids), edges=tuple(routed))
