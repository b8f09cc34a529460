"""An execution's history as the console shows it: the event table with its details, and each state's mark."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from breakwater.executions import ERROR_SUFFIXES, event_rows, state_visits

# What an event row opens to: the details' keys and their labels, in this order.
_DETAIL_FIELDS = (
    ("input", "Input"),
    ("output", "Output"),
    ("parameters", "Parameters"),
    ("error", "Error"),
    ("cause", "Cause"),
)


class Mark(StrEnum):
    """How the graph shows a state, as the Step Functions console's Graph view does."""

    SUCCEEDED = "succeeded"
    """Entered and left normally."""
    CAUGHT = "caught"
    """Its task failed and a Catch moved the execution on."""
    FAILED = "failed"
    """The execution failed here (a Fail state, or an error nothing caught)."""
    CURRENT = "current"
    """The execution is in this state now."""


@dataclass(frozen=True)
class EventRow:
    """One row of the event table (the console's Table view) and what it opens to."""

    id: int
    type: str
    step: str
    resource: str
    elapsed_ms: int
    time: str
    error: str | None
    details: tuple[tuple[str, str], ...]

    @property
    def failed(self) -> bool:
        return self.type.endswith(ERROR_SUFFIXES)


def pretty(value: Any) -> str:
    """JSON text indented for reading; anything that is not JSON as it is."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})


def table(events: list[dict[str, Any]]) -> list[EventRow]:
    """The event table: ``breakwater history``'s columns, plus each event's input, output, error and cause."""
    by_id = {event["id"]: event for event in events}
    rows = []
    for row in event_rows(events):
        details = _details(by_id[row["id"]])
        opened = tuple((label, pretty(details[key])) for key, label in _DETAIL_FIELDS if details.get(key) is not None)
        rows.append(
            EventRow(
                id=row["id"],
                type=row["type"],
                step=row["step"],
                resource=row["resource"],
                elapsed_ms=row["elapsedMs"],
                time=row["time"],
                error=row["error"],
                details=opened,
            )
        )
    return rows


def state_marks(events: list[dict[str, Any]], status: str) -> dict[str, Mark]:
    """Each entered state's mark (a state entered twice keeps its last entry's); the last state entered and never
    left is the current one, or, once the execution has ended, the one it failed in."""
    visits = state_visits(events)
    marks: dict[str, Mark] = {}
    for i, visit in enumerate(visits):
        if visit.exited:
            marks[visit.name] = Mark.CAUGHT if visit.errored else Mark.SUCCEEDED
        elif i == len(visits) - 1 and status != "RUNNING":
            marks[visit.name] = Mark.FAILED
        else:
            marks[visit.name] = Mark.CURRENT
    return marks
