"""A layered layout of the state machine (Sugiyama style), hand-written: see ``breakwater.graph``.

Coordinates are inches at the natural rendering scale.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from breakwater.graph.edges import _states, edges

NODE_WIDTH = 2.0
_NODE_GAP = 0.45  # between two boxes in a layer
_DUMMY_GAP = 0.28  # between a box and a routing point, or two routing points
LAYER_SPACING = 1.45


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
