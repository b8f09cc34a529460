"""The seed algorithm, rewritten: a circuit breaker evaluated inside the payment Lambda.

This is the design Breakwater replaces, kept faithful to its behaviour so the
benchmark measures it honestly:

* every invocation reads the breaker item before the call, and reads it again
  after the call to record the outcome (two reads per call);
* the counts are read-modify-written with plain, unconditional writes, so two
  Lambdas that read the same count both write ``count + 1`` and one failure is
  lost;
* OPEN moves to HALF_OPEN when ``now - lastFailure >= cooldown``, and HALF_OPEN
  admits **every** request, not a bounded number of probes;
* a success in HALF_OPEN closes the breaker (``success_threshold`` 1), a
  failure there reopens it; a failure recorded while already OPEN reopens it
  again, pushing the cooldown back;
* a missing item is created with an unconditional write on first read.

Two deliberate kindnesses, so only the algorithm's own flaws show: times are in
milliseconds (the seed truncates to whole seconds), and declines and invalid
orders are neither failures nor successes (the seed's wrapper records any
exception as a failure).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from breakwater.breaker_record import BreakerState

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


@dataclass
class Tally:
    """DynamoDB requests one invocation made, and how long each took."""

    reads: int = 0
    writes: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @contextmanager
    def timed(self) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.latencies_ms.append((time.perf_counter() - began) * 1000)


@dataclass(frozen=True)
class Admission:
    """The breaker's answer before a call."""

    allowed: bool
    state: str  # the state the decision was made in (HALF_OPEN for the request that moved it there)
    episode: str  # which OPEN period a half-open admission follows (its lastFailureMs)
    decided_at: float


Transition = Callable[[float, str, str], None]


class ReferenceBreaker:
    """One breaker item in a DynamoDB table, driven the seed's way. Thread-safe only as DynamoDB is."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        service: str,
        threshold: int,
        cooldown_s: float,
        success_threshold: int = 1,
        clock: Callable[[], float] = time.time,
        on_transition: Transition | None = None,
    ) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.service = service
        self.threshold = threshold
        self.cooldown_ms = int(cooldown_s * 1000)
        self.success_threshold = success_threshold
        self.clock = clock
        self.on_transition = on_transition

    # -- the record --------------------------------------------------------------

    def load(self, tally: Tally) -> dict[str, Any]:
        """Read the item (eventually consistent); create it, unconditionally, when missing."""
        tally.reads += 1
        with tally.timed():
            item = self.dynamodb.get_item(TableName=self.table, Key=self._key()).get("Item")
        if item is None:
            record = {"state": CLOSED, "failureCount": 0, "successCount": 0, "lastFailureMs": 0}
            self._put(record, tally)
            return record
        return {
            "state": item["state"]["S"],
            "failureCount": int(item["failureCount"]["N"]),
            "successCount": int(item["successCount"]["N"]),
            "lastFailureMs": int(item["lastFailureMs"]["N"]),
        }

    def _key(self) -> dict[str, Any]:
        return {"serviceName": {"S": self.service}}

    def _put(self, record: dict[str, Any], tally: Tally) -> None:
        tally.writes += 1
        item = {"serviceName": {"S": self.service}, "state": {"S": record["state"]}}
        for name in ("failureCount", "successCount", "lastFailureMs"):
            item[name] = {"N": str(record[name])}
        with tally.timed():
            self.dynamodb.put_item(TableName=self.table, Item=item)

    def _set(self, tally: Tally, seen: str, **values: Any) -> None:
        """One unconditional UpdateItem SET of ``values``; reports a state change to ``on_transition``."""
        tally.writes += 1
        names = {f"#{k}": k for k in values}
        attrs = {f":{k}": ({"S": v} if isinstance(v, str) else {"N": str(v)}) for k, v in values.items()}
        with tally.timed():
            self.dynamodb.update_item(
                TableName=self.table,
                Key=self._key(),
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=attrs,
            )
        new_state = values.get("state")
        if new_state is not None and self.on_transition is not None:
            self.on_transition(self.clock(), seen, new_state)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- before the call -----------------------------------------------------------

    def admit(self, tally: Tally) -> Admission:
        """Read the state and decide; an expired OPEN moves to HALF_OPEN and lets this request through."""
        record = self.load(tally)
        decided_at = self.clock()
        state = record["state"]
        episode = str(record["lastFailureMs"])
        if state == CLOSED:
            return Admission(True, CLOSED, "", decided_at)
        if state == OPEN:
            if self._now_ms() - record["lastFailureMs"] < self.cooldown_ms:
                return Admission(False, OPEN, "", decided_at)
            self._set(tally, OPEN, state=HALF_OPEN, successCount=0)
            return Admission(True, HALF_OPEN, episode, decided_at)
        # HALF_OPEN: every request is admitted.
        return Admission(True, HALF_OPEN, episode, decided_at)

    # -- after the call --------------------------------------------------------------

    def record_success(self, tally: Tally) -> None:
        self.apply_success(self.load(tally), tally)

    def record_failure(self, tally: Tally) -> None:
        self.apply_failure(self.load(tally), tally)

    def apply_success(self, record: dict[str, Any], tally: Tally) -> None:
        """Write the outcome of a success computed from ``record`` (as read earlier: not atomic)."""
        if record["state"] == HALF_OPEN:
            successes = record["successCount"] + 1
            if successes >= self.success_threshold:
                self._set(tally, HALF_OPEN, state=CLOSED, failureCount=0, successCount=0)
            else:
                self._set(tally, HALF_OPEN, successCount=successes)
        elif record["state"] == CLOSED and record["failureCount"] > 0:
            self._set(tally, CLOSED, failureCount=0)

    def apply_failure(self, record: dict[str, Any], tally: Tally) -> None:
        """Write the outcome of a failure computed from ``record`` (as read earlier: not atomic)."""
        now = self._now_ms()
        if record["state"] == HALF_OPEN:
            self._set(tally, HALF_OPEN, state=OPEN, lastFailureMs=now)
            return
        failures = record["failureCount"] + 1
        if failures >= self.threshold:
            # The trip rewrites the state and the time only; the count stays as it was read.
            self._set(tally, record["state"], state=OPEN, lastFailureMs=now)
        else:
            self._set(tally, record["state"], failureCount=failures, lastFailureMs=now)

    def open_until(self) -> float | None:
        """When an OPEN breaker lets the next request through (None unless OPEN). Not counted: harness use."""
        item = self.dynamodb.get_item(TableName=self.table, Key=self._key(), ConsistentRead=True).get("Item")
        if item is None or item["state"]["S"] != OPEN:
            return None
        return (int(item["lastFailureMs"]["N"]) + self.cooldown_ms) / 1000
