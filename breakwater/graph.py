"""Draw the state machine: transitions, a layered layout, Mermaid text and a matplotlib picture.

The definition is the parsed ASL document (``breakwater.template.load_definition()``). Only the
top-level states are drawn; transitions come from ``Next``, ``Choices[].Next``, ``Default`` and
``Catch[].Next``. Executions are given as paths (the ordered names of the states entered), which
:func:`counts_from_paths` turns into per-state and per-transition counts for :func:`render`.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "BREAKER_COLOURS",
    "OUTCOME_COLOURS",
    "PICTURE_FORMATS",
    "box_lines",
    "counts_from_paths",
    "edges",
    "layout",
    "path_transitions",
    "render",
    "to_mermaid",
]

# Geometry, in inches at the natural rendering scale (layout() returns coordinates in these units).
NODE_WIDTH = 2.0
_NODE_GAP = 0.45  # between two boxes in a layer
_DUMMY_GAP = 0.28  # between a box and a routing point, or two routing points
LAYER_SPACING = 1.45
_WRAP = 22
_LINE_HEIGHT = 0.17
_BOX_PADDING = 0.2
_MARGIN = 0.5
_MAX_WIDTH = 44.0  # inches; wider pictures are scaled down as a whole
_MAX_HEIGHT = 60.0

BREAKER_COLOURS: dict[str, str] = {
    "CLOSED": "#2e9d4a",
    "HALF_OPEN": "#f0a202",
    "OPEN": "#d62828",
    "FORCED_OPEN": "#7a0c0c",
    "DISABLED": "#8a8a8a",
    "UNKNOWN": "#d3d3d3",
}

_TAKEN = "#1f5fbf"
_UNTAKEN_EDGE = "#c4c8cc"
_UNTAKEN_BORDER = "#8a9096"
_FILL = {"Choice": "#fff1c9", "Succeed": "#dcf2dc", "Fail": "#f9dcdc"}
_TASK_FILL = "#eaf1fb"
_TERMINAL_TYPES = ("Succeed", "Fail")
_TIMES = "\N{MULTIPLICATION SIGN}"
_FADED_ALPHA = 0.35
# Order markers on the breaker band: they must stand out on every state colour (a dark edge does that).
OUTCOME_COLOURS: dict[str, str] = {
    "charged": "#ffffff",
    "declined": "#f2d024",
    "queued": "#1f5fbf",
    "failed": "#111111",
}


# --------------------------------------------------------------------------- transitions


def _states(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    states = definition.get("States")
    if not isinstance(states, Mapping) or not states:
        raise ValueError("definition has no States")
    start = definition.get("StartAt")
    if start not in states:
        raise ValueError(f"StartAt {start!r} is not a state")
    return {str(name): spec for name, spec in states.items()}


# What each decision of the workflow means, per Choice state and target: the text on its edge in the
# picture and in Mermaid. The ASL carries no text on a choice rule (a JSONata rule has Condition, Next,
# Assign and Output), so it lives here; tests/unit/test_graph.py checks that every Choice edge of
# statemachine/circuit_breaker.asl.json has one, and none is left over.
DECISIONS: dict[str, dict[str, str]] = {
    "Is the order valid and the circuit closed?": {
        "Reject invalid order": "invalid",
        "Call payment provider": "CLOSED",
        "Call payment provider in a failure window": "CLOSED, rate rule",
        "Call payment provider after recent failures": "CLOSED, failures",
        "Call provider in shadow mode": "SHADOW",
        "Queue order for later": "no call allowed",
        "Move circuit to half-open": "cooldown over",
        "Take a probe slot": "HALF_OPEN, slot free",
        "Call provider without recording": "DISABLED",
    },
    "Did another execution restart the window?": {
        "Count the failure in the current window": "window restarted",
        "Report charge": "charged",
        "Queue order for later": "failed",
    },
    "Has the failure count reached the threshold?": {
        "Open the circuit": "tripped",
        "Open the circuit after a charged call": "tripped, charged",
        "Report charge": "charged",
        "Queue order for later": "below threshold",
    },
    "Is the breaker in shadow mode?": {
        "Call provider in shadow mode": "SHADOW",
        "Queue order for later": "ENFORCE",
    },
    "Have enough probes succeeded?": {
        "Close the circuit": "enough probes",
        "Report charge": "more probes needed",
    },
    "Did the provider decline the order?": {
        "Report declined payment": "declined",
        "Reject order refused by provider": "malformed",
    },
}


def decision(source: str, target: str) -> str | None:
    """The meaning of the decision ``source`` -> ``target`` (None: not a decision we name)."""
    return DECISIONS.get(source, {}).get(target)


def edges(definition: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every transition as ``(source, target, label)``, in definition order.

    Per state the order is ``Next``, ``Choices`` (label ``"choice"``), ``Default`` and ``Catch``
    (label ``"catch: <ErrorEquals joined by commas>"``). When one state reaches the same target more
    than once, only the first transition (and its label) is kept.
    """
    result: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(source: str, target: Any, label: str) -> None:
        if isinstance(target, str) and (source, target) not in seen:
            seen.add((source, target))
            result.append((source, target, label))

    for name, spec in _states(definition).items():
        add(name, spec.get("Next"), "next")
        for choice in spec.get("Choices") or ():
            add(name, choice.get("Next"), "choice")
        add(name, spec.get("Default"), "default")
        for catcher in spec.get("Catch") or ():
            errors = ",".join(str(error) for error in catcher.get("ErrorEquals") or ())
            add(name, catcher.get("Next"), f"catch: {errors}")
    return result


def path_transitions(path: Sequence[str]) -> list[tuple[str, str]]:
    """The transitions taken along an execution path: its consecutive pairs."""
    return list(itertools.pairwise(path))


def counts_from_paths(paths: Iterable[Sequence[str]]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """How often each state was entered and each transition taken, summed over ``paths``."""
    state_counts: dict[str, int] = {}
    edge_counts: dict[tuple[str, str], int] = {}
    for path in paths:
        for state in path:
            state_counts[state] = state_counts.get(state, 0) + 1
        for pair in path_transitions(path):
            edge_counts[pair] = edge_counts.get(pair, 0) + 1
    return state_counts, edge_counts


# --------------------------------------------------------------------------- layered layout


@dataclass
class _Layered:
    """A Sugiyama-style layering: real states plus routing points for edges that span layers."""

    layers: list[list[str]]
    x: dict[str, float]
    depth: dict[str, int]
    dummies: set[str]
    # (source, target) of every drawable transition -> the nodes its line passes, source first.
    routes: dict[tuple[str, str], list[str]]

    def y(self, node: str) -> float:
        return -self.depth[node] * LAYER_SPACING


def _acyclic(order: list[str], succ: dict[str, list[str]], start: str) -> set[tuple[str, str]]:
    """The back edges found by an iterative DFS from ``start``, then from unreached states."""
    back: set[tuple[str, str]] = set()
    colour: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in [start, *order]:
        if root in colour:
            continue
        colour[root] = 1
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, index = stack[-1]
            if index < len(succ[node]):
                stack[-1] = (node, index + 1)
                child = succ[node][index]
                if colour.get(child) == 1:
                    back.add((node, child))
                elif child not in colour:
                    colour[child] = 1
                    stack.append((child, 0))
            else:
                colour[node] = 2
                stack.pop()
    return back


def _depths(order: list[str], dag: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of every state (Kahn's order over the DAG, ties in definition order)."""
    indegree = dict.fromkeys(order, 0)
    succ: dict[str, list[str]] = {name: [] for name in order}
    for source, target in dag:
        succ[source].append(target)
        indegree[target] += 1
    depth = dict.fromkeys(order, 0)
    ready = [name for name in order if indegree[name] == 0]
    while ready:
        node = ready.pop(0)
        for child in succ[node]:
            depth[child] = max(depth[child], depth[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return depth


def _crossings(upper: list[str], lower: list[str], links: list[tuple[str, str]]) -> int:
    up = {node: i for i, node in enumerate(upper)}
    low = {node: i for i, node in enumerate(lower)}
    pairs = sorted((up[a], low[b]) for a, b in links if a in up and b in low)
    count = 0
    for i, (a1, b1) in enumerate(pairs):
        for a2, b2 in pairs[i + 1 :]:
            if a1 < a2 and b1 > b2:
                count += 1
    return count


def _total_crossings(layers: list[list[str]], links: list[tuple[str, str]]) -> int:
    return sum(_crossings(layers[i], layers[i + 1], links) for i in range(len(layers) - 1))


def _barycentre_sweep(layers: list[list[str]], neighbours: dict[str, list[str]], downward: bool) -> None:
    indices = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
    for i in indices:
        fixed = layers[i - 1] if downward else layers[i + 1]
        position = {node: p for p, node in enumerate(fixed)}

        def key(item: tuple[int, str], position: dict[str, int] = position) -> float:
            index, node = item
            linked = [position[n] for n in neighbours[node] if n in position]
            return sum(linked) / len(linked) if linked else float(index)

        layers[i] = [node for _, node in sorted(enumerate(layers[i]), key=key)]


def _transpose(layers: list[list[str]], links: list[tuple[str, str]]) -> None:
    """Swap neighbours within a layer while that removes crossings with the adjacent layers."""
    improved = True
    rounds = 0
    while improved and rounds < 10:
        improved = False
        rounds += 1
        for i, layer in enumerate(layers):
            for j in range(len(layer) - 1):
                before = _local_crossings(layers, i, links)
                layer[j], layer[j + 1] = layer[j + 1], layer[j]
                if _local_crossings(layers, i, links) < before:
                    improved = True
                else:
                    layer[j], layer[j + 1] = layer[j + 1], layer[j]


def _local_crossings(layers: list[list[str]], i: int, links: list[tuple[str, str]]) -> int:
    total = 0
    if i > 0:
        total += _crossings(layers[i - 1], layers[i], links)
    if i + 1 < len(layers):
        total += _crossings(layers[i], layers[i + 1], links)
    return total


def _isotonic(values: list[float], weights: list[float]) -> list[float]:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [weighted sum, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight_sum, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += weight_sum
            blocks[-1][2] += count
    fitted: list[float] = []
    for total, weight_sum, count in blocks:
        fitted.extend([total / weight_sum] * int(count))
    return fitted


def _gap(a: str, b: str, dummies: set[str]) -> float:
    if a in dummies and b in dummies:
        return _DUMMY_GAP
    if a in dummies or b in dummies:
        return NODE_WIDTH / 2 + _DUMMY_GAP
    return NODE_WIDTH + _NODE_GAP


def _place(
    layer: list[str], desired: dict[str, float], weight: dict[str, float], dummies: set[str]
) -> dict[str, float]:
    """Positions closest to ``desired`` that keep the layer's order and minimum gaps."""
    offsets = [0.0]
    for a, b in itertools.pairwise(layer):
        offsets.append(offsets[-1] + _gap(a, b, dummies))
    fitted = _isotonic([desired[n] - o for n, o in zip(layer, offsets, strict=True)], [weight[n] for n in layer])
    return {node: f + o for node, f, o in zip(layer, fitted, offsets, strict=True)}


def _coordinates(layers: list[list[str]], neighbours: dict[str, list[str]], dummies: set[str]) -> dict[str, float]:
    x: dict[str, float] = {}
    for layer in layers:  # packed, centred on 0
        position = 0.0
        for index, node in enumerate(layer):
            if index:
                position += _gap(layer[index - 1], node, dummies)
            x[node] = position
        for node in layer:
            x[node] -= position / 2
    depth = {node: i for i, layer in enumerate(layers) for node in layer}

    def link_weight(a: str, b: str) -> float:
        return {0: 1.0, 1: 2.0, 2: 8.0}[(a in dummies) + (b in dummies)]

    for sweep in range(24):
        direction = (-1, 1, 0)[sweep % 3]  # align to the layer above, below, then both
        order = range(len(layers)) if direction <= 0 else range(len(layers) - 1, -1, -1)
        for i in order:
            desired: dict[str, float] = {}
            weight: dict[str, float] = {}
            for node in layers[i]:
                linked = [n for n in neighbours[node] if direction == 0 or depth[n] == i + direction]
                weights = [link_weight(node, n) for n in linked]
                if linked:
                    desired[node] = sum(w * x[n] for w, n in zip(weights, linked, strict=True)) / sum(weights)
                    weight[node] = sum(weights)
                else:
                    desired[node], weight[node] = x[node], 0.5
            x.update(_place(layers[i], desired, weight, dummies))
    left = min(x.values())
    return {node: value - left for node, value in x.items()}


def _split(dag: list[tuple[str, str]], depth: dict[str, int]) -> tuple[set[str], dict[tuple[str, str], list[str]]]:
    """Route every DAG edge spanning several layers through one routing point per layer crossed."""
    dummies: set[str] = set()
    chains: dict[tuple[str, str], list[str]] = {}
    for source, target in dag:
        chain = [source]
        for level in range(depth[source] + 1, depth[target]):
            dummy = f"\x00{len(dummies)}"
            dummies.add(dummy)
            depth[dummy] = level
            chain.append(dummy)
        chains[(source, target)] = [*chain, target]
    return dummies, chains


def _initial_layers(
    order: list[str],
    start: str,
    succ: dict[str, list[str]],
    depth: dict[str, int],
    chains: dict[tuple[str, str], list[str]],
) -> list[list[str]]:
    """Depth-first discovery order from StartAt, routing points next to their source."""
    rank: dict[str, float] = {}
    stack = [start]
    while stack:
        node = stack.pop()
        if node not in rank:
            rank[node] = len(rank)
            stack.extend(reversed(succ[node]))
    for name in order:
        rank.setdefault(name, len(rank))
    for (source, _), chain in chains.items():
        for step, node in enumerate(chain[1:-1], start=1):
            rank[node] = rank[source] + step / (len(chain) + 1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for node in sorted(depth, key=lambda n: rank[n]):
        layers[depth[node]].append(node)
    return layers


def _reduce_crossings(
    layers: list[list[str]], neighbours: dict[str, list[str]], links: list[tuple[str, str]]
) -> list[list[str]]:
    best = [list(layer) for layer in layers]
    best_crossings = _total_crossings(best, links)
    for sweep in range(8):
        _barycentre_sweep(layers, neighbours, downward=sweep % 2 == 0)
        _transpose(layers, links)
        crossings = _total_crossings(layers, links)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
    return best


def _layered(definition: Mapping[str, Any]) -> _Layered:
    states = _states(definition)
    order = list(states)
    start = str(definition["StartAt"])
    transitions = [(s, t) for s, t, _ in edges(definition) if t in states and s != t]
    succ: dict[str, list[str]] = {name: [] for name in order}
    for source, target in transitions:
        succ[source].append(target)
    back = _acyclic(order, succ, start)
    dag = list(dict.fromkeys((t, s) if (s, t) in back else (s, t) for s, t in transitions))
    depth = _depths(order, dag)
    dummies, chains = _split(dag, depth)
    links = [pair for chain in chains.values() for pair in itertools.pairwise(chain)]
    neighbours: dict[str, list[str]] = {node: [] for node in depth}
    for a, b in links:
        neighbours[a].append(b)
        neighbours[b].append(a)
    layers = _reduce_crossings(_initial_layers(order, start, succ, depth, chains), neighbours, links)
    routes = {(s, t): list(reversed(chains[(t, s)])) if (s, t) in back else chains[(s, t)] for s, t in transitions}
    return _Layered(layers, _coordinates(layers, neighbours, dummies), depth, dummies, routes)


def layout(definition: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Deterministic top-to-bottom layered positions ``{state: (x, y)}``.

    A state's layer is its longest-path depth from ``StartAt`` once the back edges found by a
    depth-first search are ignored; ``y`` is ``-layer * LAYER_SPACING`` (so ``StartAt`` has the
    largest ``y``). Within a layer, states are ordered by barycentre sweeps and adjacent swaps to
    reduce crossings, with edges spanning several layers routed through intermediate points.
    Units are inches at the natural drawing scale; boxes are ``NODE_WIDTH`` wide.
    """
    layered = _layered(definition)
    return {name: (round(layered.x[name], 6), layered.y(name)) for name in _states(definition) if name in layered.depth}


# --------------------------------------------------------------------------- Mermaid


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(
    definition: Mapping[str, Any],
    counts: Mapping[str, int] | None = None,
    highlight: Iterable[str] = (),
) -> str:
    """A Mermaid ``flowchart TD`` of the state machine.

    Node ids are ``s0``, ``s1``... in definition order; Choice states are rhombi, Succeed/Fail
    stadiums, other states rectangles. A positive ``counts[state]`` is appended to its label as
    a space, a multiplication sign and the count; states in ``highlight`` get the ``taken`` class.
    """
    states = _states(definition)
    ids = {name: f"s{index}" for index, name in enumerate(states)}
    lines = ["flowchart TD"]
    for name, spec in states.items():
        label = name
        if counts and counts.get(name, 0) > 0:
            label += f" {_TIMES}{counts[name]}"
        label = _mermaid_text(label)
        kind = spec.get("Type")
        if kind == "Choice":
            lines.append(f'    {ids[name]}{{"{label}"}}')
        elif kind in _TERMINAL_TYPES:
            lines.append(f'    {ids[name]}(["{label}"])')
        else:
            lines.append(f'    {ids[name]}["{label}"]')
    for source, target, label in edges(definition):
        if target not in ids:
            continue
        if label == "next":
            lines.append(f"    {ids[source]} --> {ids[target]}")
        elif label.startswith("catch"):
            lines.append(f'    {ids[source]} -.->|"{_mermaid_text(label)}"| {ids[target]}')
        else:
            text = decision(source, target) or label
            lines.append(f'    {ids[source]} -->|"{_mermaid_text(text)}"| {ids[target]}')
    marked = list(dict.fromkeys(highlight))
    taken = [ids[name] for name in marked if name in ids]
    if marked:
        lines.append(f"    classDef taken fill:#dbe8ff,stroke:{_TAKEN},stroke-width:3px")
    if taken:
        lines.append(f"    class {','.join(taken)} taken")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- matplotlib picture


@dataclass
class _Box:
    name: str
    kind: str
    x: float
    y: float
    lines: list[str]
    count: int

    @property
    def height(self) -> float:
        return len(self.lines) * _LINE_HEIGHT + _BOX_PADDING

    @property
    def top(self) -> float:
        return self.y + self.height / 2

    @property
    def bottom(self) -> float:
        return self.y - self.height / 2


def _ports(layered: _Layered, boxes: dict[str, _Box], points: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    """Spread the ends of the lines leaving/entering each box along its bottom/top edge."""
    ends: dict[tuple[str, bool], list[tuple[float, tuple[str, str], int]]] = {}
    for pair, route in layered.routes.items():
        line = points[pair]
        for index, neighbour_index, node in ((0, 1, route[0]), (-1, -2, route[-1])):
            ends.setdefault((node, line[index][1] > line[neighbour_index][1]), []).append(
                (line[neighbour_index][0], pair, index)
            )
    for (node, _), items in ends.items():
        items.sort()
        span = NODE_WIDTH * (0.25 if boxes[node].kind == "Choice" else 0.6)
        for rank, (_, pair, index) in enumerate(items):
            offset = span * ((rank + 0.5) / len(items) - 0.5) if len(items) > 1 else 0.0
            x, y = points[pair][index]
            points[pair][index] = (x + offset, y)


def _edge_points(layered: _Layered, boxes: dict[str, _Box]) -> dict[tuple[str, str], list[tuple[float, float]]]:
    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for pair, route in layered.routes.items():
        downward = layered.depth[route[0]] < layered.depth[route[-1]]
        first, last = boxes[route[0]], boxes[route[-1]]
        line = [(first.x, first.bottom if downward else first.top)]
        line += [(layered.x[node], layered.y(node)) for node in route[1:-1]]
        line.append((last.x, last.top if downward else last.bottom))
        points[pair] = line
    _ports(layered, boxes, points)
    return points


def _curve(line: list[tuple[float, float]]) -> Any:
    """A smooth path through the points, vertical at each of them."""
    from matplotlib.path import Path as MplPath

    vertices = [line[0]]
    codes = [MplPath.MOVETO]
    for (x0, y0), (x1, y1) in itertools.pairwise(line):
        middle = (y0 + y1) / 2
        vertices += [(x0, middle), (x1, middle), (x1, y1)]
        codes += [MplPath.CURVE4] * 3
    return MplPath(vertices, codes)


def _loop(x: float, reach: float, upper: float, lower: float) -> Any:
    """A loop out of a box's right side and back into it."""
    from matplotlib.path import Path as MplPath

    vertices = [(x, upper), (reach, upper + 0.15), (reach, lower - 0.15), (x, lower)]
    return MplPath(vertices, [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4])


def _midpoint(line: list[tuple[float, float]]) -> tuple[float, float]:
    if len(line) > 2:
        return line[len(line) // 2]
    (x0, y0), (x1, y1) = line
    return (x0 + x1) / 2, (y0 + y1) / 2


def _draw_edges(
    ax: Axes,
    layered: _Layered,
    boxes: dict[str, _Box],
    labels: dict[tuple[str, str], str],
    edge_counts: Mapping[tuple[str, str], int],
    scale: float,
) -> None:
    from matplotlib.patches import FancyArrowPatch

    points = _edge_points(layered, boxes)
    curves = {pair: _curve(line) for pair, line in points.items()}
    for source in sorted({s for s, t in labels if s == t and s in boxes}):  # retry-style self-loops
        box = boxes[source]
        x, reach = box.x + NODE_WIDTH / 2, box.x + NODE_WIDTH / 2 + 0.45
        line = [(reach, box.y), (reach, box.y)]  # the count label sits at the far end
        points[(source, source)] = line
        curves[(source, source)] = _loop(x, reach, box.y + box.height / 4, box.y - box.height / 4)
    most = max([count for pair, count in edge_counts.items() if pair in points] or [1])
    # With a run drawn, the transitions it did not take fade into the background.
    faded = any(count > 0 for count in edge_counts.values())
    for pair, line in points.items():
        count = edge_counts.get(pair, 0)
        taken = count > 0
        width = (1.6 + 4.4 * math.sqrt(count / most)) if taken else (0.6 if faded else 0.9)
        arrow = FancyArrowPatch(
            path=curves[pair],
            arrowstyle=f"-|>,head_length={(6 + width) * scale:.2f},head_width={(3 + width) * scale:.2f}",
            color=_TAKEN if taken else _UNTAKEN_EDGE,
            alpha=1.0 if taken or not faded else _FADED_ALPHA,
            linewidth=width * scale,
            linestyle="--" if labels.get(pair, "").startswith("catch") else "-",
            shrinkA=0,
            shrinkB=0,
            zorder=3 if taken else 1,
        )
        ax.add_patch(arrow)
        meaning = decision(*pair)
        if meaning and (taken or not faded):  # a decision's meaning on its edge; untaken ones stay quiet
            x, y = _midpoint(line)
            ax.text(
                x,
                y + (0.17 if taken else 0.0),
                meaning,
                ha="center",
                va="center",
                fontsize=7.5 * scale,
                fontstyle="italic",
                color="#444444" if taken else "#777777",
                zorder=5,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
        if taken:
            x, y = _midpoint(line)
            ax.text(
                x,
                y,
                f"{_TIMES}{count}",
                ha="center",
                va="center",
                fontsize=9 * scale,
                color=_TAKEN,
                fontweight="bold",
                zorder=5,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.9},
            )


def box_lines(name: str, kind: str, count: int, ended: int = 0) -> list[str]:
    """A state's label: its name wrapped, then how often it was entered and, unless it is terminal,
    how many executions ended in it (a Task with an Output can end the execution itself)."""
    lines = textwrap.wrap(name, _WRAP, break_on_hyphens=False) or [name]
    if count > 0:
        here = f", {ended} ended here" if ended and kind not in _TERMINAL_TYPES else ""
        lines.append(f"{_TIMES}{count}{here}")
    return lines


def _draw_edge_legend(ax: Axes, scale: float) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=_TAKEN, linewidth=2.5, label="transition taken (thicker: more executions)"),
        Line2D([], [], color=_UNTAKEN_EDGE, linewidth=1.2, label="transition not taken"),
        Line2D([], [], color=_TAKEN, linewidth=2.5, linestyle="--", label="error caught (Catch)"),
    ]
    ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=9 * scale, handlelength=3)


def _draw_box(ax: Axes, box: _Box, scale: float) -> None:
    from matplotlib.patches import FancyBboxPatch, Polygon

    taken = box.count > 0
    fill = _FILL.get(box.kind, _TASK_FILL)
    edge = _TAKEN if taken else _UNTAKEN_BORDER
    width = (2.6 if taken else 1.0) * scale
    half_w, half_h = NODE_WIDTH / 2, box.height / 2
    if box.kind == "Choice":  # a hexagon: pointed ends mark the decision
        tip = 0.18
        corners = [
            (box.x - half_w, box.y),
            (box.x - half_w + tip, box.top),
            (box.x + half_w - tip, box.top),
            (box.x + half_w, box.y),
            (box.x + half_w - tip, box.bottom),
            (box.x - half_w + tip, box.bottom),
        ]
        patch: Any = Polygon(corners, closed=True, facecolor=fill, edgecolor=edge, linewidth=width, zorder=4)
    else:
        style = f"round,pad=0,rounding_size={half_h:.3f}" if box.kind in _TERMINAL_TYPES else "square,pad=0"
        patch = FancyBboxPatch(
            (box.x - half_w, box.bottom),
            NODE_WIDTH,
            box.height,
            boxstyle=style,
            facecolor=fill,
            edgecolor=edge,
            linewidth=width,
            zorder=4,
        )
    ax.add_patch(patch)
    text = "\n".join(box.lines)
    ax.text(
        box.x,
        box.y,
        text,
        ha="center",
        va="center",
        fontsize=9 * scale,
        linespacing=1.15,
        color="#111111",
        fontweight="bold" if taken else "normal",
        zorder=6,
    )


def _draw_timeline(
    ax: Axes, timeline: Sequence[tuple[float, str]], scale: float, markers: Sequence[tuple[float, str]] = ()
) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    samples = sorted(((float(t), str(state)) for t, state in timeline), key=lambda sample: sample[0])
    steps = [b[0] - a[0] for a, b in itertools.pairwise(samples) if b[0] > a[0]]
    tail = sorted(steps)[len(steps) // 2] if steps else 1.0
    for index, (start, state) in enumerate(samples):
        end = samples[index + 1][0] if index + 1 < len(samples) else start + tail
        if end > start:
            colour = BREAKER_COLOURS.get(state, BREAKER_COLOURS["UNKNOWN"])
            ax.broken_barh([(start, end - start)], (0, 1), facecolors=colour, edgecolors="none")
    for outcome, colour in OUTCOME_COLOURS.items():  # one marker per order, when it ended, by outcome
        times = [float(t) for t, seen in markers if seen == outcome]
        if times:
            ax.scatter(times, [0.5] * len(times), s=42 * scale, c=colour, edgecolors="#111111", linewidths=1, zorder=3)
    ax.set_xlim(samples[0][0], samples[-1][0] + tail)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("seconds", fontsize=10 * scale)
    ax.tick_params(labelsize=9 * scale)
    ax.set_title(
        "breaker state" + (" and orders (dots, by outcome)" if markers else ""), fontsize=10 * scale, loc="left"
    )
    handles: list[Any] = [Patch(facecolor=colour, label=state) for state, colour in BREAKER_COLOURS.items()]
    handles += [
        Line2D([], [], marker="o", linestyle="", markerfacecolor=colour, markeredgecolor="#111111", label=outcome)
        for outcome, colour in OUTCOME_COLOURS.items()
        if any(seen == outcome for _, seen in markers)
    ]
    ax.legend(
        handles=handles,
        ncol=len(handles),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.75),
        frameon=False,
        fontsize=9 * scale,
        handlelength=1.2,
        columnspacing=1.2,
    )


def _figure(width: float, height: float, timeline: bool) -> tuple[Figure, Axes, Axes | None, float]:
    """A figure whose graph axes map one data unit to one inch (times the returned scale)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    title_band, timeline_band = 0.7, (2.3 if timeline else 0.0)
    natural_w = width + 2 * _MARGIN
    natural_h = height + 2 * _MARGIN + title_band
    scale = min(1.0, _MAX_WIDTH / natural_w, _MAX_HEIGHT / natural_h)
    fig_w = max(natural_w * scale, 8.0 if timeline else 4.0)
    fig_h = natural_h * scale + timeline_band
    fig = Figure(figsize=(fig_w, fig_h))
    graph_w, graph_h = (width + 2 * _MARGIN) * scale, (height + 2 * _MARGIN) * scale
    graph = fig.add_axes(
        ((fig_w - graph_w) / 2 / fig_w, timeline_band / fig_h, graph_w / fig_w, graph_h / fig_h),
    )
    graph.set_axis_off()
    band = None
    if timeline:
        side = 0.6
        band = fig.add_axes((side / fig_w, 1.0 / fig_h, (fig_w - 2 * side) / fig_w, 0.5 / fig_h))
    return fig, graph, band, scale


# The picture formats render() writes, by file suffix.
PICTURE_FORMATS = {".svg": "svg", ".png": "png"}


def render(
    definition: Mapping[str, Any],
    out: Path,
    state_counts: Mapping[str, int] | None = None,
    edge_counts: Mapping[tuple[str, str], int] | None = None,
    timeline: Sequence[tuple[float, str]] | None = None,
    title: str = "",
    end_counts: Mapping[str, int] | None = None,
    markers: Sequence[tuple[float, str]] = (),
) -> Path:
    """Draw the state machine to ``out`` (``.svg`` or ``.png``) and return ``out``.

    Every transition is a light grey arrow (dashed for ``Catch``); states and transitions with a
    positive count are drawn in a strong colour, thicker with the count, labelled with the count, and
    the transitions no execution took fade. ``end_counts`` (executions that ended in a state) adds
    "N ended here" to states that are not terminal, so the ends add up to the executions. With a
    ``timeline`` of ``(seconds since start, breaker state)`` samples, a band below the graph shows
    the breaker state over time, and ``markers`` ``(seconds, outcome)`` a dot per order on it.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in PICTURE_FORMATS:
        raise ValueError(f"cannot render to {out.suffix or 'a file without a suffix'!r}: use .svg or .png")
    state_counts = state_counts or {}
    edge_counts = edge_counts or {}
    states = _states(definition)
    layered = _layered(definition)
    boxes: dict[str, _Box] = {}
    for name, spec in states.items():
        count = int(state_counts.get(name, 0))
        lines = box_lines(name, str(spec.get("Type", "Task")), count, int((end_counts or {}).get(name, 0)))
        boxes[name] = _Box(name, str(spec.get("Type", "Task")), layered.x[name], layered.y(name), lines, count)

    half = NODE_WIDTH / 2
    left = min(min(b.x - half for b in boxes.values()), min(layered.x.values()))
    right = max(max(b.x + half for b in boxes.values()), max(layered.x.values()))
    top = max(b.top for b in boxes.values())
    bottom = min(b.bottom for b in boxes.values())
    fig, graph, band, scale = _figure(right - left, top - bottom, bool(timeline))
    graph.set_xlim(left - _MARGIN, right + _MARGIN)
    graph.set_ylim(bottom - _MARGIN, top + _MARGIN)
    labels = {(s, t): label for s, t, label in edges(definition)}
    _draw_edges(graph, layered, boxes, labels, edge_counts, scale)
    for box in boxes.values():
        _draw_box(graph, box, scale)
    if title:
        fig.suptitle(title, fontsize=15 * scale, y=1 - 0.2 / fig.get_figheight(), va="top")
    _draw_edge_legend(graph, scale)
    if band is not None and timeline:
        _draw_timeline(band, timeline, scale, markers)

    out.parent.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, Any] = {"Date": None} if suffix == ".svg" else {}
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "breakwater"}):
        fig.savefig(out, format=PICTURE_FORMATS[suffix], dpi=100, metadata=metadata)
    return out
