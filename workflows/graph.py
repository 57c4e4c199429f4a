"""Lays out a workflow's steps and connections as a layered graph for server-rendered SVG.

The start step (the one no connection targets) is the top layer; each other step sits one layer below the
nearest step that leads to it (breadth-first), so the main path reads top to bottom. Within a layer, steps
are ordered by the average position of the steps that lead to them, which keeps most arrows short and
uncrossed. Connections that go back up (loops) are routed around the right-hand side. Steps no path
reaches are laid out in a last layer so nothing in the definition is hidden.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NODE_WIDTH = 184
NODE_HEIGHT = 56
H_GAP = 48
V_GAP = 64
MARGIN = 24
LABEL_CHARS = 24


@dataclass(frozen=True)
class GraphNode:
    id: str
    label: str
    type: str
    x: int
    y: int
    css: str

    @property
    def short_label(self) -> str:
        return self.label if len(self.label) <= LABEL_CHARS else self.label[: LABEL_CHARS - 1] + "…"

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
    def label_y(self) -> int:
        return self.y + 24

    @property
    def type_y(self) -> int:
        return self.y + 42


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


def _layers(step_ids: list[str], edges: list[tuple[str, str, str]]) -> dict[str, int]:
    targets = {target for _, target, _ in edges}
    starts = [step for step in step_ids if step not in targets] or step_ids[:1]
    children: dict[str, list[str]] = {step: [] for step in step_ids}
    for source, target, _ in edges:
        children[source].append(target)
    layer: dict[str, int] = {}
    queue = deque()
    for start in starts[:1]:
        layer[start] = 0
        queue.append(start)
    while queue:
        step = queue.popleft()
        for child in children[step]:
            if child not in layer:
                layer[child] = layer[step] + 1
                queue.append(child)
    unreached = [step for step in step_ids if step not in layer]
    if unreached:
        last = max(layer.values(), default=-1) + 1
        for step in unreached:
            layer[step] = last
    return layer


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
    layer = _layers(step_ids, edges)

    rows: dict[int, list[str]] = {}
    for step in step_ids:
        rows.setdefault(layer[step], []).append(step)
    position: dict[str, float] = {}
    parents: dict[str, list[str]] = {step: [] for step in step_ids}
    for source, target, _ in edges:
        if layer[source] < layer[target]:
            parents[target].append(source)
    for depth in sorted(rows):
        members = rows[depth]
        if depth > 0:
            # Barycentre ordering: a step goes under the average position of the steps that lead to it.
            order = {step: float(index) for index, step in enumerate(members)}
            members.sort(key=lambda step: _barycentre(parents[step], position, order[step]))
        for index, step in enumerate(members):
            position[step] = float(index)

    widest = max((len(members) for members in rows.values()), default=0)
    inner_width = widest * NODE_WIDTH + max(widest - 1, 0) * H_GAP
    has_back = any(layer[target] <= layer[source] for source, target, _ in edges)
    width = inner_width + 2 * MARGIN + (80 if has_back else 0)
    height = len(rows) * NODE_HEIGHT + max(len(rows) - 1, 0) * V_GAP + 2 * MARGIN
    active_ids = set(active)
    states = states or {}

    nodes: dict[str, GraphNode] = {}
    for depth, members in rows.items():
        row_width = len(members) * NODE_WIDTH + (len(members) - 1) * H_GAP
        left = MARGIN + (inner_width - row_width) // 2
        for index, step_id in enumerate(members):
            step = by_id[step_id]
            label = str(
                _field(step, "display_name", "displayName") or _field(step, "name", "name") or step_id
            )
            css = " ".join(
                part for part in (
                    "step",
                    "step-active" if step_id in active_ids else "",
                    f"step-{states[step_id]}" if step_id in states else "",
                ) if part
            )
            nodes[step_id] = GraphNode(
                id=step_id, label=label, type=str(_field(step, "type", "type") or ""),
                x=left + index * (NODE_WIDTH + H_GAP), y=MARGIN + depth * (NODE_HEIGHT + V_GAP), css=css,
            )

    routed = []
    for source, target, outcome in edges:
        a, b = nodes[source], nodes[target]
        if layer[target] > layer[source]:
            x1, y1 = a.x + NODE_WIDTH // 2, a.y + NODE_HEIGHT
            x2, y2 = b.x + NODE_WIDTH // 2, b.y
            bend = (y2 - y1) // 2
            path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2 - 2}"
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
