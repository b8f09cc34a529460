"""The workflow's graph as inline SVG geometry: boxes from ``graph.layout()``, lines from ``graph.edges()``.

The page's template draws it; this module only computes where things go and how each is marked,
so the geometry is tested without a browser. Units are CSS pixels.
"""

from __future__ import annotations

import datetime as dt
import itertools
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from breakwater.breaker_record import Transition
from breakwater.console.history import Mark
from breakwater.graph import NODE_WIDTH, edges, layout, path_transitions
from breakwater.transition_history import UNKNOWN

SCALE = 80.0  # pixels per layout unit (graph.layout() works in inches)
MARGIN = 24.0
LINE_HEIGHT = 14.0
PADDING = 14.0
WRAP = 24
_LOOP_REACH = 36.0


@dataclass(frozen=True)
class Box:
    """A state: centre, size, wrapped name, ASL type and mark (None: not entered)."""

    name: str
    kind: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]
    mark: Mark | None

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def top(self) -> float:
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height / 2

    def line_y(self, index: int) -> float:
        """Baseline of the ``index``-th line of the name, the block centred in the box."""
        first = self.y - (len(self.lines) - 1) * LINE_HEIGHT / 2
        return first + index * LINE_HEIGHT + 4


@dataclass(frozen=True)
class Line:
    """A transition: its SVG path, whether the execution took it, and its label (next, choice, catch...)."""

    source: str
    target: str
    path: str
    taken: bool
    label: str


@dataclass(frozen=True)
class Picture:
    width: float
    height: float
    boxes: tuple[Box, ...]
    lines: tuple[Line, ...]


def _curve(source: Box, target: Box) -> str:
    if target.top > source.bottom:  # downward: bottom centre to top centre, vertical at both ends
        x0, y0, x1, y1 = source.x, source.bottom, target.x, target.top
        middle = (y0 + y1) / 2
        return f"M {x0:.1f} {y0:.1f} C {x0:.1f} {middle:.1f}, {x1:.1f} {middle:.1f}, {x1:.1f} {y1:.1f}"
    # upward or sideways (a loop back): out of the right side, round, into the right side
    x0, y0 = source.x + source.width / 2, source.y
    x1, y1 = target.x + target.width / 2, target.y
    reach = max(x0, x1) + _LOOP_REACH
    return f"M {x0:.1f} {y0:.1f} C {reach:.1f} {y0:.1f}, {reach:.1f} {y1:.1f}, {x1:.1f} {y1:.1f}"


def picture(definition: Mapping[str, Any], marks: Mapping[str, Mark], path: Sequence[str]) -> Picture:
    """The graph of ``definition`` with ``marks`` on the states and the transitions along ``path`` taken."""
    positions = layout(definition)
    states = definition["States"]
    min_x = min(x for x, _ in positions.values()) - NODE_WIDTH / 2
    max_y = max(y for _, y in positions.values())
    boxes: dict[str, Box] = {}
    for name, (x, y) in positions.items():
        wrapped = tuple(textwrap.wrap(name, WRAP)) or (name,)
        boxes[name] = Box(
            name=name,
            kind=str(states[name].get("Type", "")),
            x=MARGIN + (x - min_x) * SCALE,
            y=MARGIN + PADDING + (max_y - y) * SCALE,
            width=NODE_WIDTH * SCALE,
            height=len(wrapped) * LINE_HEIGHT + PADDING,
            lines=wrapped,
            mark=marks.get(name),
        )
    taken = set(path_transitions(path))
    # Lines not taken first, so the path taken is drawn over them.
    transitions = tuple(
        sorted(
            (
                Line(source, target, _curve(boxes[source], boxes[target]), (source, target) in taken, label)
                for source, target, label in edges(definition)
                if source in boxes and target in boxes and source != target
            ),
            key=lambda line: line.taken,
        )
    )
    width = max(b.x + b.width / 2 for b in boxes.values()) + MARGIN + _LOOP_REACH
    height = max(b.bottom for b in boxes.values()) + MARGIN
    return Picture(width=round(width, 1), height=round(height, 1), boxes=tuple(boxes.values()), lines=transitions)


# --------------------------------------------------------------------------- breaker timelines

TIMELINE_WIDTH = 720.0
_MIN_SPAN = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Segment:
    """A stretch of time one breaker spent in one state, placed on the strip."""

    state: str
    start: dt.datetime
    end: dt.datetime
    x: float
    width: float


@dataclass(frozen=True)
class Strip:
    service: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Timeline:
    """Each breaker's states over one shared time axis, from the first transition seen (or earlier) to ``end``."""

    start: dt.datetime
    end: dt.datetime
    width: float
    strips: tuple[Strip, ...]


def timeline(transitions: Sequence[Transition], end: dt.datetime, width: float = TIMELINE_WIDTH) -> Timeline | None:
    """Strips from transitions at their true times (oldest first); None when there are none.

    A strip starts at the axis' start in the state its first transition left (when known), changes at each
    transition (a reopen is OPEN, HALF_OPEN, OPEN again), and ends at ``end`` in the state of its last one.
    """
    if not transitions:
        return None
    moments = [dt.datetime.fromtimestamp(t.at_ms / 1000, tz=dt.UTC) for t in transitions]
    # The axis ends at the next whole minute, so the picture (and the page's live part) changes once a minute
    # rather than at every refresh; the transitions themselves are placed at their millisecond.
    whole = end.replace(second=0, microsecond=0)
    end = whole if whole == end else whole + dt.timedelta(minutes=1)
    # At least _MIN_SPAN back from ``end``, so a recent first transition is not stretched over the axis.
    start = min(min(moments), end - _MIN_SPAN)
    span = max((end - start).total_seconds(), 0.001)

    def x_of(moment: dt.datetime) -> float:
        return round(min(max((moment - start).total_seconds() / span, 0.0), 1.0) * width, 1)

    by_service: dict[str, list[tuple[dt.datetime, str]]] = {}
    for moment, moved in sorted(zip(moments, transitions, strict=True), key=lambda pair: pair[0]):
        changes = by_service.setdefault(moved.service, [])
        if not changes and moved.before != UNKNOWN:
            changes.append((start, moved.before))
        changes.append((moment, moved.after))
    strips = []
    for service, changes in by_service.items():
        segments = []
        for (moment, state), (until, _) in itertools.pairwise([*changes, (end, "")]):
            segments.append(Segment(state, moment, until, x_of(moment), max(1.0, x_of(until) - x_of(moment))))
        strips.append(Strip(service, tuple(segments)))
    return Timeline(start=start, end=end, width=width, strips=tuple(strips))
