"""The breaker record: one DynamoDB item per service, and every fact about it, in one place.

The workflow writes the record (statemachine/circuit_breaker.asl.yaml); the replay and transitions
functions read it; so do the CLI, the console, the demo, the graph, the soak and the bench. They all
take its attribute names, its states, its modes, how an item decodes, the ``CircuitState`` metric
values and the display colours from here.

The standard library only: the functions carry this very file. ``functions/replay/breaker_record.py``
and ``functions/transitions/breaker_record.py`` are symbolic links to it, which ``sam build`` (and the
local stack's build) copy as a file into each function's artifact. ``tests/unit/test_breaker_record.py``
checks the links, the built copies, and that the ASL writes no attribute and names no state that is
not defined here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self


class Attribute(StrEnum):
    """Every attribute a breaker record may hold (DESIGN.md, "The breaker record")."""

    SERVICE_NAME = "serviceName"
    """The key: the breaker's service, 1 to 128 characters from A-Z a-z 0-9 . _ : -."""
    STATE = "state"
    """A :class:`BreakerState`; a record without one (or no record) is CLOSED."""
    FAILURE_COUNT = "failureCount"
    """Failures counted in the current window."""
    CALL_COUNT = "callCount"
    """Calls counted in the current window (only while the rate rule is on)."""
    WINDOW_START_MS = "windowStartMs"
    """When the current failure window began (epoch ms); absent: no window is open."""
    OPEN_UNTIL_MS = "openUntilMs"
    """OPEN: when the cooldown ends and the next order may probe (epoch ms)."""
    TRIP_COUNT = "tripCount"
    """Trips since the breaker last closed; the cooldown doubles with each, up to MaxCooldownSeconds."""
    PROBES_IN_FLIGHT = "probesInFlight"
    """HALF_OPEN: probe slots taken."""
    PROBE_LEASE_UNTIL_MS = "probeLeaseUntilMs"
    """HALF_OPEN: when the probe slots taken expire, so a probe that died frees its slot (epoch ms)."""
    HALF_OPEN_SUCCESSES = "halfOpenSuccesses"
    """HALF_OPEN: probes that succeeded; SuccessThreshold of them close the breaker."""
    LAST_TRANSITION_MS = "lastTransitionMs"
    """When the state last changed (epoch ms)."""
    VERSION = "version"
    """Goes up by one at every transition and operator override: the key of conditional writes and events."""
    MODE = "mode"
    """A :class:`BreakerMode` set by an operator; absent: the stack's BreakerMode parameter."""


KEY = Attribute.SERVICE_NAME
ATTRIBUTES: tuple[str, ...] = tuple(attribute.value for attribute in Attribute)


class BreakerState(StrEnum):
    """The states a breaker record can be in (the ``state`` attribute)."""

    CLOSED = "CLOSED"
    """Calls flow; failures are counted in a window; the threshold trips it."""
    OPEN = "OPEN"
    """No calls until ``openUntilMs``; orders are queued (``circuit_open``)."""
    HALF_OPEN = "HALF_OPEN"
    """At most ``HalfOpenMaxProbes`` probe calls at once; successes close it, a failure reopens it."""
    FORCED_OPEN = "FORCED_OPEN"
    """Set by an operator: never call, always queue (``forced_open``)."""
    DISABLED = "DISABLED"
    """Set by an operator: always call, record nothing."""


UNREADABLE = "UNKNOWN"
"""Not a state: what an execution reports as ``breaker`` when the table could not be read (it fails open)."""


class BreakerMode(StrEnum):
    """How a breaker acts on its decisions (the ``mode`` attribute; none: the stack's ``BreakerMode``)."""

    ENFORCE = "ENFORCE"
    """Queue where the breaker says so (``circuit_open``, ``probe_busy``)."""
    SHADOW = "SHADOW"
    """Decide and record as ENFORCE, but call where ENFORCE would queue, and record nothing for that call."""


class QueueReason(StrEnum):
    """Why the workflow queued an order (``reason`` in its output and in the queued message)."""

    CIRCUIT_OPEN = "circuit_open"
    """The breaker is OPEN and its cooldown runs: no call."""
    CALL_FAILED = "call_failed"
    """The call was made and failed (counted for the breaker)."""
    PROBE_BUSY = "probe_busy"
    """HALF_OPEN with every probe slot taken: no call."""
    FORCED_OPEN = "forced_open"
    """An operator forced the breaker open: no call."""
    BREAKER_BUSY = "breaker_busy"
    """The breaker table throttled the read: no call to a provider the breaker may have opened."""
    CONCURRENCY_LIMIT = "concurrency_limit"
    """The payment function's concurrency (its reservation, the bulkhead) was full: Lambda refused the call."""


NO_CALL_REASONS = frozenset(reason.value for reason in QueueReason if reason is not QueueReason.CALL_FAILED)
"""Reasons under which no provider call was made: a replay that ends in one has spent no attempt."""


# The tables below are keyed by plain strings: a state read from an item finds its entry.
# The CircuitState metric (what the open-circuit alarm watches): 0 calls flow, 1 probing, 2 no calls.
CIRCUIT_STATE: dict[str, int] = {
    BreakerState.CLOSED.value: 0,
    BreakerState.DISABLED.value: 0,
    BreakerState.HALF_OPEN.value: 1,
    BreakerState.OPEN.value: 2,
    BreakerState.FORCED_OPEN.value: 2,
}
# Reading the metric back: the state each value stands for (FORCED_OPEN and DISABLED read as their kin).
STATE_OF_CIRCUIT_VALUE: dict[int, str] = {
    0: BreakerState.CLOSED.value,
    1: BreakerState.HALF_OPEN.value,
    2: BreakerState.OPEN.value,
}

# Display: a terminal style (rich) and a colour (the picture, the console, the bench plots) per state.
STYLE: dict[str, str] = {
    BreakerState.CLOSED.value: "green",
    BreakerState.HALF_OPEN.value: "yellow",
    BreakerState.OPEN.value: "red",
    BreakerState.FORCED_OPEN.value: "bold red",
    BreakerState.DISABLED.value: "dim",
    UNREADABLE: "white",
}
COLOUR: dict[str, str] = {
    BreakerState.CLOSED.value: "#2e9d4a",
    BreakerState.HALF_OPEN.value: "#f0a202",
    BreakerState.OPEN.value: "#d62828",
    BreakerState.FORCED_OPEN.value: "#7a0c0c",
    BreakerState.DISABLED.value: "#8a8a8a",
    UNREADABLE: "#d3d3d3",
}


def text(item: Mapping[str, Any], attribute: str) -> str | None:
    """A string attribute of an item or stream image (``{"S": ...}``); None when absent or empty."""
    value = item.get(attribute) or {}
    found = value.get("S")
    return str(found) if found else None


def number(item: Mapping[str, Any], attribute: str) -> int | None:
    """A number attribute of an item or stream image (``{"N": ...}``), in whole units, or None.

    DynamoDB numbers may have a fraction (a cooldown of 1.5 s makes ``openUntilMs`` end in .5): the
    whole part counts, so one odd value never fails a reader (or a whole stream batch).
    """
    value = item.get(attribute) or {}
    found = value.get("N")
    return math.floor(Decimal(found)) if found else None


def state_of(item: Mapping[str, Any] | None) -> str:
    """The state an item or stream image records: CLOSED when it has none, or there is no item."""
    return (text(item, Attribute.STATE) if item else None) or BreakerState.CLOSED.value


@dataclass(frozen=True)
class Breaker:
    """One breaker record, decoded. A missing item is a CLOSED breaker with zero counts."""

    service: str = ""
    """The key (empty only for a record built without one, as in a function's unit test)."""
    state: str = BreakerState.CLOSED.value
    failure_count: int = 0
    window_start_ms: int = 0
    open_until_ms: int | None = None
    trip_count: int = 0
    probes_in_flight: int = 0
    probe_lease_until_ms: int | None = None
    half_open_successes: int = 0
    last_transition_ms: int | None = None
    version: int = 0
    call_count: int = 0
    mode: str | None = None
    """The record's ``mode`` (ENFORCE or SHADOW); None: the stack's ``BreakerMode`` applies."""
    exists: bool = True

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None, service: str | None = None) -> Self:
        """Decode a GetItem/Scan item or a stream image; ``service`` defaults to the item's key."""
        if not item:
            return cls(service=service or "", exists=False)
        return cls(
            service=service or text(item, KEY) or "",
            state=state_of(item),
            failure_count=number(item, Attribute.FAILURE_COUNT) or 0,
            window_start_ms=number(item, Attribute.WINDOW_START_MS) or 0,
            open_until_ms=number(item, Attribute.OPEN_UNTIL_MS),
            trip_count=number(item, Attribute.TRIP_COUNT) or 0,
            probes_in_flight=number(item, Attribute.PROBES_IN_FLIGHT) or 0,
            probe_lease_until_ms=number(item, Attribute.PROBE_LEASE_UNTIL_MS),
            half_open_successes=number(item, Attribute.HALF_OPEN_SUCCESSES) or 0,
            last_transition_ms=number(item, Attribute.LAST_TRANSITION_MS),
            version=number(item, Attribute.VERSION) or 0,
            call_count=number(item, Attribute.CALL_COUNT) or 0,
            mode=text(item, Attribute.MODE),
        )

    @property
    def failure_rate(self) -> str:
        """Failures per counted call in the window, as the rate rule sees them (``-`` when none are counted)."""
        return f"{100 * self.failure_count / self.call_count:.0f}%" if self.call_count else "-"

    def as_dict(self) -> dict[str, Any]:
        return {
            Attribute.SERVICE_NAME.value: self.service,
            Attribute.STATE.value: self.state,
            Attribute.FAILURE_COUNT.value: self.failure_count,
            Attribute.OPEN_UNTIL_MS.value: self.open_until_ms,
            Attribute.TRIP_COUNT.value: self.trip_count,
            Attribute.PROBES_IN_FLIGHT.value: self.probes_in_flight,
            Attribute.HALF_OPEN_SUCCESSES.value: self.half_open_successes,
            Attribute.LAST_TRANSITION_MS.value: self.last_transition_ms,
            Attribute.VERSION.value: self.version,
            Attribute.CALL_COUNT.value: self.call_count,
            Attribute.MODE.value: self.mode,
        }


@dataclass(frozen=True)
class Transition:
    """One move of a breaker from one state to another, as a write to its record made it (a stream record)."""

    service: str
    before: str
    after: str
    version: int
    at_ms: int
    """``lastTransitionMs`` of the new image: when the move was made (epoch ms), not when it was read."""
    mode: str | None
    """The record's mode (None: the stack's ``BreakerMode``)."""


def transition_of(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Transition | None:
    """The transition a write made (old and new images), or None: a write that left ``state`` as it was (a counted
    failure, a probe slot), or a deleted record."""
    after = text(new, Attribute.STATE) if new else None
    before = state_of(old)
    if after is None or after == before:
        return None
    moved = Breaker.from_item(new)
    return Transition(moved.service, before, after, moved.version, moved.last_transition_ms or 0, moved.mode)
