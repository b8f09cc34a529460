"""The matplotlib picture of the state machine: boxes, edges with counts and decisions, the breaker band."""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from breakwater.breaker_record import COLOUR, UNREADABLE
from breakwater.graph.edges import TAKEN as _TAKEN
from breakwater.graph.edges import TERMINAL_TYPES as _TERMINAL_TYPES
from breakwater.graph.edges import TIMES as _TIMES
from breakwater.graph.edges import _states, decision, edges
from breakwater.graph.layout import NODE_WIDTH, _Layered, _layered

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_WRAP = 22
_LINE_HEIGHT = 0.17
_BOX_PADDING = 0.2
_MARGIN = 0.5
_MAX_WIDTH = 44.0  # inches; wider pictures are scaled down as a whole
_MAX_HEIGHT = 60.0


_UNTAKEN_EDGE = "#c4c8cc"
_UNTAKEN_BORDER = "#8a9096"
_FILL = {"Choice": "#fff1c9", "Succeed": "#dcf2dc", "Fail": "#f9dcdc"}
_TASK_FILL = "#eaf1fb"
_FADED_ALPHA = 0.35
# Order markers on the breaker band: they must stand out on every state colour (a dark edge does that).
OUTCOME_COLOURS: dict[str, str] = {
    "charged": "#ffffff",
    "declined": "#f2d024",
    "queued": "#1f5fbf",
    "failed": "#111111",
}


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
            colour = COLOUR.get(state, COLOUR[UNREADABLE])
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
    handles: list[Any] = [Patch(facecolor=colour, label=state) for state, colour in COLOUR.items()]
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
