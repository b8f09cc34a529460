"""The floor: the fewest failing provider calls any breaker with these settings must make.

A call is *wasted* when it fails (HTTP 5xx or 429, a timeout, no answer): it
was made while the provider was failing. Some waste no breaker can avoid. The
floor counts exactly that part, from the calls the policy made:

``floor = closed allowance + in flight at a trip + probes``

* **closed allowance**: an exact breaker (atomic counts, consecutive failures,
  a success resets the count) admits failing calls while it is CLOSED until the
  count reaches ``FailureThreshold``. Walking the policy's CLOSED calls in the
  order their outcomes were reported, a failing call is allowed while the count
  before it is below the threshold. The count restarts when the breaker closes.
  Per trip this is ``FailureThreshold``; a flaky provider whose failure runs
  never reach the threshold has every failure allowed.
* **in flight at a trip**: a failing CLOSED call beyond the threshold is still
  allowed when it was admitted (its breaker read) before the threshold was
  reached and reported after that. "Reached" is the report of the
  threshold-th failure, plus the time the policy took to write the trip after
  the failure report that triggered it (no breaker stops a call before its trip
  is written; a breaker that lost count of failures trips late, and the calls
  it admits meanwhile are its own waste).
* **probes**: each half-open episode (one cooldown that elapsed) admits at most
  ``HalfOpenMaxProbes`` calls; that many failing probes are allowed per
  episode, the rest are waste.

For a policy without a breaker, :func:`replay_exact` first replays an exact
breaker over its calls (decisions at each call's start, outcomes at each
report, the same threshold, cooldown and probe limit) to give each call the
role an exact breaker would have given it, and the trips and closes it would
have made; calls it would not have made are ``rejected`` and never allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from breakwater.bench.records import CallFact
from breakwater.breaker_record import BreakerState
from breakwater.local.provider import Call

FAILING_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Floor:
    """The floor and its three terms."""

    closed_allowance: int
    in_flight: int
    probes: int
    cooldowns: int  # half-open episodes that admitted at least one failing call

    @property
    def total(self) -> int:
        return self.closed_allowance + self.in_flight + self.probes

    def ratio(self, wasted: int) -> float | None:
        """wasted / floor; None when both are zero (nothing to waste, nothing wasted)."""
        if self.total == 0:
            return None if wasted == 0 else float("inf")
        return wasted / self.total


def floor_of(
    calls: Sequence[CallFact], trips: Sequence[float], closes: Sequence[float], threshold: int, max_probes: int
) -> Floor:
    """The floor for ``calls``, given the times the breaker tripped (CLOSED to OPEN) and closed."""
    allowance = in_flight = 0
    closed = sorted((c for c in calls if c.role in ("closed", "unguarded")), key=lambda c: c.reported_at)
    failure_reports = sorted(c.reported_at for c in closed if c.failed)
    closes_left = sorted(closes)
    count = 0
    reached: tuple[float, float] | None = None  # (threshold reached, trip written by then)
    for call in closed:
        while closes_left and closes_left[0] <= call.reported_at:
            closes_left.pop(0)
            count, reached = 0, None
        if not call.failed:
            count, reached = 0, None
            continue
        if count < threshold:
            allowance += 1
            if count + 1 == threshold:
                reached = (
                    call.reported_at,
                    call.reported_at + _recording_latency(call.reported_at, trips, failure_reports),
                )
        elif reached is not None and call.decided_at < reached[1] and call.reported_at >= reached[0]:
            in_flight += 1
        count += 1
    failing_probes = Counter(c.episode for c in calls if c.role == "probe" and c.failed)
    probes = sum(min(n, max_probes) for n in failing_probes.values())
    return Floor(allowance, in_flight, probes, len(failing_probes))


def _recording_latency(reached: float, trips: Sequence[float], failure_reports: Sequence[float]) -> float:
    """How long the policy took to write the trip that followed ``reached``, after the failure report that caused it."""
    later = [t for t in trips if t >= reached]
    if not later:
        return 0.0
    trip = min(later)
    last_report = max(r for r in failure_reports if r <= trip)
    return trip - last_report


def wasted(calls: Sequence[CallFact]) -> int:
    """Calls that failed: made while the provider was failing."""
    return sum(1 for c in calls if c.failed)


def provider_failing(call: Call, timeout_seconds: float) -> bool:
    """Whether the provider's own log shows ``call`` as failing: an error status or an answer too late."""
    return call.status >= 500 or call.status in FAILING_STATUSES or call.answered_at - call.at >= timeout_seconds


def replay_exact(
    calls: Sequence[CallFact], threshold: int, cooldown_s: float, max_probes: int, success_threshold: int = 1
) -> tuple[list[CallFact], list[float], list[float]]:
    """Roles an exact breaker would have given ``calls``; returns (calls with roles, trips, closes).

    Decisions happen at each call's ``started_at``, outcomes at ``reported_at``
    (an outcome reported at the same instant as a decision is seen first).
    """
    events = sorted(
        [(c.reported_at, 0, i) for i, c in enumerate(calls)] + [(c.started_at, 1, i) for i, c in enumerate(calls)]
    )
    exact = _ExactBreaker(threshold, cooldown_s, max_probes, success_threshold)
    roles: list[tuple[str, str]] = [("rejected", "")] * len(calls)
    for at, is_decision, i in events:
        if is_decision:
            roles[i] = exact.decide(at)
        else:
            exact.report(at, roles[i], calls[i].failed)
    replayed = [replace(c, role=role, episode=episode) for c, (role, episode) in zip(calls, roles, strict=True)]
    return replayed, exact.trips, exact.closes


class _ExactBreaker:
    """The ideal breaker :func:`replay_exact` runs: exact counts, bounded probes, fixed cooldown."""

    def __init__(self, threshold: int, cooldown_s: float, max_probes: int, success_threshold: int) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.max_probes = max_probes
        self.success_threshold = success_threshold
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.successes = 0
        self.probes = 0
        self.open_until = 0.0
        self.episode = 0
        self.trips: list[float] = []
        self.closes: list[float] = []

    def decide(self, at: float) -> tuple[str, str]:
        if self.state == BreakerState.CLOSED:
            return "closed", ""
        if self.state == BreakerState.OPEN and at >= self.open_until:
            self.state, self.probes, self.successes = BreakerState.HALF_OPEN, 0, 0
            self.episode += 1
        if self.state == BreakerState.HALF_OPEN and self.probes < self.max_probes:
            self.probes += 1
            return "probe", str(self.episode)
        return "rejected", ""

    def report(self, at: float, role: tuple[str, str], failed: bool) -> None:
        kind, episode = role
        if kind == "closed" and self.state == BreakerState.CLOSED:
            self.failures = self.failures + 1 if failed else 0
            if self.failures >= self.threshold:
                self._open(at)
                self.trips.append(at)
        elif kind == "probe" and self.state == BreakerState.HALF_OPEN and episode == str(self.episode):
            self.probes -= 1
            if failed:
                self._open(at)
                return
            self.successes += 1
            if self.successes >= self.success_threshold:
                self.state, self.failures = BreakerState.CLOSED, 0
                self.closes.append(at)

    def _open(self, at: float) -> None:
        self.state = BreakerState.OPEN
        self.open_until = at + self.cooldown_s
