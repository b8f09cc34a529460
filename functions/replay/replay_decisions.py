"""The replay function's decisions: what becomes of one queued order, given the breaker and what the batch has
started (:func:`decide`, pure: the caller passes the clock and the random source, and carries the decision out).

A module of the replay function's own package (its task root, beside ``app.py``), standard library and
``breaker_record``/``order_record`` only: the benchmark loads it by path for the replay's timings
(``breakwater/bench/metrics.py``) and tests/unit/test_replay_decisions.py drives it directly.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from breaker_record import NO_CALL_REASONS, Breaker, BreakerMode, BreakerState, QueueReason
from order_record import DEFAULT_RECORD_DAYS

SHADOW_CALLS = frozenset({BreakerState.OPEN.value, BreakerState.HALF_OPEN.value})  # where SHADOW calls, ENFORCE queues
CALLS_ALLOWED = frozenset({BreakerState.CLOSED.value, BreakerState.DISABLED.value})
CALL_FAILED = QueueReason.CALL_FAILED.value
RAMP_SECONDS = 30.0
RAMP_LIMIT = 2
RETRY_DELAY_BASE_SECONDS = 30
RETRY_DELAY_MAX_SECONDS = 900
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 900
SHORT_BACKOFF_BASE_SECONDS = 2
MAX_VISIBILITY_SECONDS = 43200  # SQS's limit for ChangeMessageVisibility
PROBE_MARK = "probe"
_REPLAY_NAME = re.compile(r"^replay-[0-9]+-")


def started_as_probe(execution: str) -> bool:
    """Whether ``execution`` is a replay this function started as a probe (the hash is hex: no clash)."""
    return bool(_REPLAY_NAME.match(execution)) and execution.rsplit("-", 1)[-1].startswith(PROBE_MARK)


@dataclass(frozen=True)
class QueuedOrder:
    """One message of the fallback queue, as the workflow's "Queue order for later" state wrote it."""

    message_id: str
    order: dict[str, Any]
    reason: str
    attempt: int
    execution: str
    queued_at_ms: int
    receive_count: int = 1

    @property
    def spent(self) -> int:
        """Replay attempts this order has spent: only replays whose own call failed, probes excepted."""
        if self.reason in NO_CALL_REASONS or started_as_probe(self.execution):
            return max(0, self.attempt - 1)
        return self.attempt

    def retry_due_ms(self) -> int:
        """When a ``call_failed`` order may be retried: a delay growing with ``spent``, jittered per message."""
        if self.reason != CALL_FAILED:
            return self.queued_at_ms
        ceiling = min(RETRY_DELAY_MAX_SECONDS, RETRY_DELAY_BASE_SECONDS * 2 ** min(self.spent, 16))
        fraction = int(hashlib.sha256(self.message_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return self.queued_at_ms + int(ceiling * (0.5 + 0.5 * fraction) * 1000)


@dataclass(frozen=True)
class Settings:
    """What the template gives the function (``app.settings_from_environment``: its variables, each required)."""

    max_attempts: int
    failure_threshold: int
    failure_window_seconds: int
    default_service: str
    minimum_calls: int = 20
    default_mode: str = BreakerMode.ENFORCE.value
    express: bool = False
    orders_table: str = ""
    event_bus: str = "default"
    record_days: int = DEFAULT_RECORD_DAYS

    @property
    def trip_count(self) -> int:
        """Failures in a window that may trip the breaker: the count rule's, else the rate rule's minimum calls."""
        return self.failure_threshold or self.minimum_calls


@dataclass(frozen=True)
class BreakerView(Breaker):
    """A breaker record (decoded by ``breaker_record``), with what replay decides on it."""

    def calls(self, settings: Settings) -> bool:
        """Whether the workflow calls the provider for an order now (SHADOW calls where ENFORCE would queue)."""
        if self.state in CALLS_ALLOWED:
            return True
        return (self.mode or settings.default_mode) == BreakerMode.SHADOW and self.state in SHADOW_CALLS

    def window_end_ms(self, settings: Settings) -> int:
        """When the failures counted now stop counting (see the module docstring for window 0)."""
        window = settings.failure_window_seconds or RETRY_DELAY_MAX_SECONDS
        return self.window_start_ms + window * 1000

    def live_failures(self, settings: Settings, now_ms: int) -> int:
        return self.failure_count if now_ms < self.window_end_ms(settings) else 0

    def replay_budget(self, settings: Settings, now_ms: int) -> int | None:
        """Replays a batch may start without being able to trip the breaker; None: no limit (DISABLED)."""
        if self.state == BreakerState.DISABLED:
            return None
        live = self.live_failures(settings, now_ms)
        if live == 0:
            return max(1, settings.trip_count - 1)
        return max(0, settings.trip_count - 1 - live)

    def awaits_probe(self, now_ms: int) -> bool:
        """An OPEN breaker past its cooldown, or a HALF_OPEN one with a free (or expired) probe slot."""
        if self.state == BreakerState.OPEN:
            return (self.open_until_ms or 0) <= now_ms
        if self.state == BreakerState.HALF_OPEN:
            return self.probes_in_flight == 0 or (self.probe_lease_until_ms or 0) <= now_ms
        return False  # FORCED_OPEN waits for an operator

    def in_ramp(self, now_ms: int) -> bool:
        return self.last_transition_ms is not None and now_ms - self.last_transition_ms < RAMP_SECONDS * 1000


class Action(Enum):
    """What becomes of one message."""

    START = "start"
    """Start the order again as a replay execution, and settle it once it ends."""
    PROBE = "probe"
    """Start it as the probe of a breaker that awaits one; the attempt is not spent."""
    DEFER = "defer"
    """Hide the message for ``hide_seconds`` and report it as a batch item failure."""
    DEAD_LETTER = "dead_letter"
    """Move the message to the dead-letter queue with ``reason``."""


@dataclass(frozen=True)
class Decision:
    action: Action
    hide_seconds: int = 0
    reason: str = ""


@dataclass
class BatchState:
    """What one batch has started so far, per service."""

    started: dict[str, int] = field(default_factory=dict)
    probed: set[str] = field(default_factory=set)


def _backoff_seconds(receives: int, base: int, rng: random.Random) -> int:
    ceiling = min(BACKOFF_MAX_SECONDS, base * 2 ** min(max(receives, 1) - 1, 16))
    return rng.randint(max(1, ceiling // 2), max(1, ceiling))


def _seconds_until(at_ms: int, now_ms: int) -> int:
    return min(MAX_VISIBILITY_SECONDS, max(1, math.ceil((at_ms - now_ms) / 1000)))


def decide(
    queued: QueuedOrder,
    service: str,
    breaker: BreakerView,
    batch: BatchState,
    settings: Settings,
    now_ms: int,
    rng: random.Random,
) -> Decision:
    """The decision for one queued order (pure: the caller carries it out and updates ``batch``; the jitter of a
    deferral is drawn from ``rng``)."""
    if queued.spent >= settings.max_attempts:
        return Decision(Action.DEAD_LETTER, reason="replay_attempts_exhausted")
    if not breaker.calls(settings):
        if service not in batch.probed and breaker.awaits_probe(now_ms):
            return Decision(Action.PROBE)
        return Decision(Action.DEFER, hide_seconds=_backoff_seconds(queued.receive_count, BACKOFF_BASE_SECONDS, rng))
    due_ms = queued.retry_due_ms()
    if now_ms < due_ms:
        return Decision(Action.DEFER, hide_seconds=_seconds_until(due_ms, now_ms))
    started = batch.started.get(service, 0)
    if breaker.in_ramp(now_ms) and started >= RAMP_LIMIT:
        return Decision(
            Action.DEFER, hide_seconds=_backoff_seconds(queued.receive_count, SHORT_BACKOFF_BASE_SECONDS, rng)
        )
    budget = breaker.replay_budget(settings, now_ms)
    if budget is not None and started >= budget:
        if breaker.live_failures(settings, now_ms):
            wait_ms = breaker.window_end_ms(settings) + rng.randint(0, SHORT_BACKOFF_BASE_SECONDS * 1000)
            return Decision(Action.DEFER, hide_seconds=_seconds_until(wait_ms, now_ms))
        return Decision(
            Action.DEFER, hide_seconds=_backoff_seconds(queued.receive_count, SHORT_BACKOFF_BASE_SECONDS, rng)
        )
    return Decision(Action.START)
