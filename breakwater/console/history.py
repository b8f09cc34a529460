"""An execution's history as the console shows it: the event table with its details, and each state's mark."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from breakwater.executions import event_rows

# What an event row opens to: the details' keys and their labels, in this order.
_DETAIL_FIELDS = (
    ("input", "Input"),
    ("output", "Output"),
    ("parameters", "Parameters"),
    ("error", "Error"),
    ("cause", "Cause"),
)
_ERROR_SUFFIXES = ("Failed", "TimedOut", "Aborted")
_ENTERED, _EXITED = "StateEntered", "StateExited"


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
        return self.type.endswith(_ERROR_SUFFIXES)


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
    """Each entered state's mark; the last state entered and never left is the current or the failed one."""
    marks: dict[str, Mark] = {}
    current: str | None = None
    errored = False
    for event in events:
        kind = event["type"]
        if kind.endswith(_ENTERED) and "stateEnteredEventDetails" in event:
            current, errored = event["stateEnteredEventDetails"]["name"], False
            marks[current] = Mark.CURRENT
        elif current is None or kind.startswith("Execution"):
            continue
        elif kind.endswith(_ERROR_SUFFIXES):
            errored = True
        elif kind.endswith("Succeeded"):
            errored = False  # a retry that worked
        elif kind.endswith(_EXITED):
            marks[current] = Mark.CAUGHT if errored else Mark.SUCCEEDED
            current = None
    if current is not None and status != "RUNNING":
        marks[current] = Mark.FAILED
    return marks
