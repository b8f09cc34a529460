"""What the harness records of one policy's run through one scenario."""

from __future__ import annotations

from dataclasses import dataclass, field

from breakwater.executions import Transition
from breakwater.local.provider import Call

OUTCOMES = ("charged", "declined", "queued", "invalid", "lost")
FAILING_MODES = frozenset({"down", "slow", "flaky", "ratelimited"})


@dataclass(frozen=True)
class CallFact:
    """One provider call as the policy made it.

    ``role`` is how the breaker admitted it: ``closed`` (a normal call),
    ``probe`` (admitted while half-open, or by the move to half-open),
    ``unguarded`` (no breaker at all) or ``rejected`` (an exact breaker would
    not have made it; only assigned by :func:`breakwater.bench.floor.replay_exact`).
    ``episode`` names the half-open episode that admitted a probe.
    """

    order_id: str
    decided_at: float  # the breaker state this call was admitted on was read then
    started_at: float  # the call left for the provider
    reported_at: float  # the caller learned the outcome (answer, error or timeout)
    failed: bool  # a breaker failure: 5xx, 429, timeout, unreachable
    role: str = "closed"
    episode: str = ""


@dataclass
class OrderRecord:
    """One order's outcome and the resources it used."""

    order_id: str
    submitted_at: float
    finished_at: float
    outcome: str  # one of OUTCOMES
    reason: str | None = None
    label: str = ""
    states: tuple[str, ...] = ()  # the workflow states entered, in order (Breakwater only)
    call: CallFact | None = None
    states_entered: int = 0
    dynamodb_reads: int = 0
    dynamodb_strong_reads: int = 0  # of dynamodb_reads, the strongly consistent ones (a full read unit each)
    dynamodb_writes: int = 0
    lambda_invocations: int = 0
    sqs_messages: int = 0
    lambda_ms: float = 0.0
    workflow_ms: float = 0.0
    dynamodb_ms: list[float] = field(default_factory=list)  # latency of each DynamoDB request the order made


@dataclass
class PolicyRun:
    """Everything observed while one policy served one scenario."""

    policy: str
    scenario: str
    started_at: float
    orders: list[OrderRecord] = field(default_factory=list)
    submitted: int = 0
    transitions: list[Transition] = field(default_factory=list)  # breaker state changes, in order
    provider_calls: list[Call] = field(default_factory=list)
    provider_modes: list[tuple[float, str]] = field(default_factory=list)  # (when, mode) switches
    recovered_at: float | None = None
    recovery_gap_s: float = 0.0  # time between orders when the provider recovered
    queue_depth: int = 0  # messages on the policy's fallback queue at the end
    charged_in_the_end: int = 0  # queued orders that a replay charged before the run ended
    finished_at: float = 0.0

    def failing_periods(self) -> list[tuple[float, float]]:
        """When the provider was in a failing mode: (start, end) pairs."""
        periods: list[tuple[float, float]] = []
        start: float | None = None
        for at, mode in self.provider_modes:
            if mode in FAILING_MODES and start is None:
                start = at
            elif mode not in FAILING_MODES and start is not None:
                periods.append((start, at))
                start = None
        if start is not None:
            periods.append((start, self.finished_at))
        return periods
