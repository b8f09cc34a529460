"""What the limits saw: throttles by service, error and reason; peaks; delays. Read by ``make scale``."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Observed:
    """Counters, safe to update from every thread of the stack."""

    throttles: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (service, error code, reason)
    peak_concurrency: dict[str, int] = field(default_factory=dict)  # function name, or "account"
    starts: Counter[str] = field(default_factory=Counter)  # workflow type -> executions started
    transitions: Counter[str] = field(default_factory=Counter)  # workflow type -> states entered and retries
    transitions_delayed: int = 0
    transition_delay_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def throttle(self, service: str, code: str, reason: str) -> None:
        with self._lock:
            self.throttles[(service, code, reason)] += 1

    def concurrency(self, name: str, now: int) -> None:
        with self._lock:
            if now > self.peak_concurrency.get(name, 0):
                self.peak_concurrency[name] = now

    def started(self, workflow_type: str) -> None:
        with self._lock:
            self.starts[workflow_type] += 1

    def transition(self, workflow_type: str, delay: float) -> None:
        with self._lock:
            self.transitions[workflow_type] += 1
            if delay > 0:
                self.transitions_delayed += 1
                self.transition_delay_seconds += delay

    def throttled(self, service: str | None = None) -> int:
        """Throttles counted, of one service or of all."""
        with self._lock:
            return sum(n for (svc, _, _), n in self.throttles.items() if service is None or svc == service)
