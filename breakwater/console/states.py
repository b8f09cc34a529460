"""Each state an execution entered, with when, for how long, and what went in and came out.

What the Step Functions console's Table view shows per state (its duration and a timeline bar), computed from
the execution's history: a state runs from its ``...StateEntered`` event to its ``...StateExited`` event, or,
for the state the execution failed, was stopped or timed out in, to the event that ended the execution. A
state still running has no duration yet (``None``); the page counts it up to now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from breakwater.console.history import Mark, pretty
from breakwater.executions import state_visits

GANTT_WIDTH = 600.0  # the timeline's drawing width, in SVG units
ROW_HEIGHT = 22.0


@dataclass(frozen=True)
class StateRun:
    """One entry into a state: its name and type, when it started (ms after the execution started), for how
    long (ms; None while it runs), how it ended, and its input and output (pretty JSON, None when not logged)."""

    index: int
    name: str
    kind: str
    started_ms: int
    duration_ms: int | None
    mark: Mark | None
    input: str | None
    output: str | None

    @property
    def ended_ms(self) -> int | None:
        return None if self.duration_ms is None else self.started_ms + self.duration_ms


def _ms(moment: dt.datetime, start: dt.datetime) -> int:
    return max(0, round((moment - start).total_seconds() * 1000))


def state_runs(
    events: list[dict[str, Any]], definition: Mapping[str, Any], marks: Mapping[str, Mark]
) -> list[StateRun]:
    """The states entered, in order; a state entered twice (a loop, a redrive) is two runs."""
    if not events:
        return []
    start = events[0]["timestamp"]
    states = definition.get("States", {})
    visits = state_visits(events)
    last = len(visits) - 1
    return [
        StateRun(
            index=i,
            name=visit.name,
            kind=str(states.get(visit.name, {}).get("Type", "")),
            started_ms=_ms(visit.entered, start),
            duration_ms=None if visit.ended is None else _ms(visit.ended, visit.entered),
            # A state entered again later took its mark from its last entry; an earlier entry succeeded.
            mark=marks.get(visit.name) if i == last or visit.ended is None else Mark.SUCCEEDED,
            input=None if visit.input is None else pretty(visit.input),
            output=None if visit.output is None else pretty(visit.output),
        )
        for i, visit in enumerate(visits)
    ]


@dataclass(frozen=True)
class Bar:
    """A run drawn on the timeline (Gantt): SVG x and width, its row's y."""

    run: StateRun
    x: float
    width: float
    y: float


@dataclass(frozen=True)
class Gantt:
    """The timeline of the runs: one bar per run, on an axis from the execution's start to ``span_ms``."""

    span_ms: int
    width: float
    height: float
    bars: tuple[Bar, ...]


def gantt(runs: list[StateRun], now_ms: int | None = None, width: float = GANTT_WIDTH) -> Gantt:
    """Bars for ``runs``; a running state reaches to ``now_ms`` (ms after the start), or to its start."""
    span = max([1, *(run.ended_ms or now_ms or run.started_ms for run in runs)])
    bars = []
    for row, run in enumerate(runs):
        end = run.ended_ms if run.ended_ms is not None else max(now_ms or run.started_ms, run.started_ms)
        x = width * run.started_ms / span
        bars.append(Bar(run, round(x, 1), round(max(2.0, width * (end - run.started_ms) / span), 1), row * ROW_HEIGHT))
    return Gantt(span_ms=span, width=width, height=len(runs) * ROW_HEIGHT, bars=tuple(bars))


def duration_label(ms: int | None) -> str:
    """``12 ms``, ``1.25 s``; ``running`` for a state still running."""
    if ms is None:
        return "running"
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.2f} s"
