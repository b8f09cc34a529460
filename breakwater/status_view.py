"""``breakwater status`` as tables that fit the terminal: whole values in the columns that matter most.

A value is never folded into a column too narrow for it (an 80-column terminal once printed "last transition"
one character per line): columns are dropped instead, least important first, and a line under the table says
which (``--json`` has every attribute). Service, state, failures, open until and trips fit 60 columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from breakwater import breaker_record as record
from breakwater.breaker import Breaker, BreakerState
from breakwater.breaker_record import Transition
from breakwater.transition_history import UNKNOWN

GAP = 2  # spaces between columns (each cell is padded by one on either side, the outer edges not)


def clock_ms(ms: int | None) -> str:
    """``HH:MM:SS.mmm`` UTC of an epoch-milliseconds time; ``-`` for none."""
    if ms is None:
        return "-"
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def until_text(ms: int | None, now_ms: int) -> str:
    """When an OPEN breaker may admit a probe: ``HH:MM:SS +12s``, or ``HH:MM:SS passed``."""
    if ms is None:
        return "-"
    delta = (ms - now_ms) / 1000
    when = clock_ms(ms)[:8]
    return f"{when} +{delta:.0f}s" if delta > 0 else f"{when} passed"


def styled_state(state: str) -> Text:
    return Text(state or "?", style=record.STYLE.get(state, "white"))


@dataclass(frozen=True)
class Column:
    """A column of a table: its header, its cell for a row's item (and the time now), and how it is justified."""

    header: str
    cell: Callable[[Any, int], str]
    justify: str = "left"


# In order of importance: the first five always show (they fit 60 columns); the others as width allows.
COLUMNS: tuple[Column, ...] = (
    Column("service", lambda b, _: b.service),
    Column("state", lambda b, _: b.state),
    Column("failures", lambda b, _: str(b.failure_count), "right"),
    Column("open until", lambda b, now: until_text(b.open_until_ms, now) if b.state == BreakerState.OPEN else "-"),
    Column("trips", lambda b, _: str(b.trip_count), "right"),
    Column("changed", lambda b, _: clock_ms(b.last_transition_ms) if b.exists else "never"),
    Column("version", lambda b, _: str(b.version), "right"),
    Column("mode", lambda b, _: b.mode or "default"),
    Column("calls", lambda b, _: str(b.call_count) if b.call_count else "-", "right"),
    Column("rate", lambda b, _: b.failure_rate, "right"),
    Column("probes", lambda b, _: str(b.probes_in_flight), "right"),
    Column("probe successes", lambda b, _: str(b.half_open_successes), "right"),
)
KEY_COLUMNS = 5
TRIPS_NOTE = "trips: since the breaker last closed (the cooldown doubles with each); changed: its last transition (UTC)"


def fitting(columns: Sequence[Column], rows: list[list[str]], width: int | None, keep: int) -> int:
    """How many of ``columns`` (in order) fit ``width`` with whole values; at least the first ``keep``."""
    if width is None:
        return len(columns)
    widths = [max(len(column.header), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    count = len(columns)
    while count > keep and sum(widths[:count]) + GAP * (count - 1) > width:
        count -= 1
    return count


def _table(title: str, columns: Sequence[Column], shown: int) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        box=None,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold underline",
    )
    for index, column in enumerate(columns[:shown]):
        # The first column (a service's name) may fold when even the key columns do not fit; the rest stay whole.
        table.add_column(
            column.header,
            justify=column.justify,  # type: ignore[arg-type]
            no_wrap=index != 0,
            overflow="fold" if index == 0 else "ellipsis",
        )
    return table


def breaker_table(breakers: list[Breaker], width: int | None, now_ms: int) -> tuple[Table, list[str]]:
    """The breakers as a table of at most ``width`` columns, and the headers of the columns left out."""
    rows = [[column.cell(b, now_ms) for column in COLUMNS] for b in breakers]
    shown = fitting(COLUMNS, rows, width, KEY_COLUMNS)
    table = _table("breakers", COLUMNS, shown)
    for breaker, row in zip(breakers, rows, strict=True):
        cells: list[str | Text] = list(row[:shown])
        cells[1] = styled_state(breaker.state)
        table.add_row(*cells)
    return table, [column.header for column in COLUMNS[shown:]]


# The transitions table: service, time and move always; mode and version as width allows.
MOVE_COLUMNS: tuple[Column, ...] = (
    Column("service", lambda t, _: t.service),
    Column("time (UTC)", lambda t, _: clock_ms(t.at_ms)),
    Column("from", lambda t, _: t.before or "?"),
    Column("to", lambda t, _: t.after),
    Column("mode", lambda t, _: t.mode or "default"),
    Column("version", lambda t, _: str(t.version), "right"),
)


def transitions_table(transitions: Sequence[Transition], width: int | None, limit: int = 20) -> Table:
    """The newest ``limit`` transitions, oldest first: service, when (ms), the move, mode, version."""
    newest = list(transitions[-limit:])
    rows = [[column.cell(t, 0) for column in MOVE_COLUMNS] for t in newest]
    shown = fitting(MOVE_COLUMNS, rows, width, 4)
    table = _table(f"transitions (the last {limit}, from the table's stream)", MOVE_COLUMNS, shown)
    for moved, row in zip(newest, rows, strict=True):
        cells: list[str | Text] = list(row[:shown])
        cells[2] = styled_state(moved.before) if moved.before != UNKNOWN else Text("?")
        cells[3] = styled_state(moved.after)
        table.add_row(*cells)
    return table


def print_status(
    console: Console, breakers: list[Breaker], transitions: Sequence[Transition], problem: str | None, now_ms: int
) -> None:
    """Both tables, fitted to the console's width, and what was left out or could not be read."""
    table, hidden = breaker_table(breakers, console.width, now_ms)
    console.print(table)
    console.print(TRIPS_NOTE, style="dim", soft_wrap=False)
    if hidden:
        console.print(
            f"not shown at {console.width} columns: {', '.join(hidden)} (--json shows every attribute)",
            soft_wrap=False,
        )
    if transitions:
        console.print(transitions_table(transitions, console.width))
    if problem:
        console.print(f"transitions: {problem}", style="yellow", soft_wrap=False)
