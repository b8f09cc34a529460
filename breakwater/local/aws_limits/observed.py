"""What the limits saw: throttles by service, error and reason; peaks; delays. Read by ``make scale``."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Observed:
    """Counters, safe to update from every thread of the stack."""

    throttles: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (service, error code, reason)
    throttled_at: list[tuple[float, str, str]] = field(default_factory=list)  # (wall-clock time, service, reason)
    throttled_resources: Counter[str] = field(default_factory=Counter)  # table, function or state machine throttled
    peak_concurrency: dict[str, int] = field(default_factory=dict)  # function name, or "account"
    starts: Counter[str] = field(default_factory=Counter)  # workflow type -> executions started
    transitions: Counter[str] = field(default_factory=Counter)  # workflow type -> states entered and retries
    machine_transitions: Counter[str] = field(default_factory=Counter)  # state machine ARN -> the same
    delays: list[tuple[str, float]] = field(default_factory=list)  # (state machine ARN, seconds) of each delay
    units: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (table, key, Read|Write) -> units
    transitions_delayed: int = 0
    transition_delay_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        """Forget everything counted so far (a warm-up before the measured run)."""
        with self._lock:
            self.throttles.clear()
            self.throttled_at.clear()
            self.throttled_resources.clear()
            self.machine_transitions.clear()
            self.delays.clear()
            self.peak_concurrency.clear()
            self.starts.clear()
            self.transitions.clear()
            self.units.clear()
            self.transitions_delayed = 0
            self.transition_delay_seconds = 0.0

    def throttle(self, service: str, code: str, reason: str, resource: str = "") -> None:
        with self._lock:
            self.throttles[(service, code, reason)] += 1
            self.throttled_at.append((time.time(), service, reason))
            self.throttled_resources[resource] += 1

    def consumed(self, table: str, key: str, kind: str, units: float) -> None:
        with self._lock:
            self.units[(table, key, kind)] = self.units.get((table, key, kind), 0.0) + units

    def units_of(self, kind: str) -> float:
        """Capacity units consumed, of ``Read`` or ``Write``, over every table and key."""
        with self._lock:
            return sum(n for (_, _, k), n in self.units.items() if k == kind)

    def concurrency(self, name: str, now: int) -> None:
        with self._lock:
            if now > self.peak_concurrency.get(name, 0):
                self.peak_concurrency[name] = now

    def started(self, workflow_type: str) -> None:
        with self._lock:
            self.starts[workflow_type] += 1

    def transition(self, workflow_type: str, delay: float, machine: str = "") -> None:
        with self._lock:
            self.transitions[workflow_type] += 1
            self.machine_transitions[machine] += 1
            if delay > 0:
                self.transitions_delayed += 1
                self.transition_delay_seconds += delay
                self.delays.append((machine, delay))

    def throttled(self, service: str | None = None) -> int:
        """Throttles counted, of one service or of all."""
        with self._lock:
            return sum(n for (svc, _, _), n in self.throttles.items() if service is None or svc == service)
