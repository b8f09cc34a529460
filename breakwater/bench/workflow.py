"""The ``breakwater`` policy: the real workflow on the embedded stack, measured from execution histories."""

from __future__ import annotations

import bisect
import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from breakwater.asl import state_with_role
from breakwater.aws import Stack
from breakwater.bench.policies import WARM_UP_ORDER, Policy, queue_depth, warm
from breakwater.bench.records import CallFact, OrderRecord
from breakwater.bench.settings import BreakerSettings
from breakwater.breaker import read
from breakwater.breaker_record import BreakerState
from breakwater.executions import ExecutionResult, Transition, start, wait
from breakwater.local.stack import EmbeddedStack

POLL_SECONDS = 0.05  # describe_execution polling: coarse enough not to starve the interpreter threads
EXECUTION_TIMEOUT = 120.0
PROBE_STATE = state_with_role("probe-call")
REPLAY_PREFIX = "replay-"  # the replay function names its executions replay-<attempt>-...
REPLAY_POLL_SECONDS = 0.5  # how often the replay's queue poller receives (the Lambda service polls continuously)


def _seconds(event: dict[str, Any]) -> float:
    return float(event["timestamp"].timestamp())


def record_of(result: ExecutionResult, submitted: float) -> OrderRecord:
    """An order record from one finished execution."""
    events = result.events
    found = result.outcome
    # The benchmark's words: an execution that failed (or succeeded without a status) lost its order.
    outcome = found.kind if found.kind not in ("failed", "other") else "lost"
    cost = result.cost()
    record = OrderRecord(
        order_id=result.name,
        submitted_at=submitted,
        finished_at=_seconds(events[-1]) if events else submitted,
        outcome=outcome,
        reason=found.reason or (result.error if outcome == "lost" else None),
        label=result.label,
        states=tuple(result.path),
        states_entered=cost.states_entered,
        dynamodb_reads=cost.dynamodb_reads,
        dynamodb_writes=cost.dynamodb_writes,
        lambda_invocations=cost.lambda_invocations,
        sqs_messages=cost.sqs_messages,
    )
    if events:
        record.workflow_ms = (_seconds(events[-1]) - _seconds(events[0])) * 1000
    record.dynamodb_ms = [(end - begin) * 1000 for _, begin, end in result.task_windows("dynamodb")]
    windows = result.task_windows("lambda")
    record.lambda_ms = sum((end - begin) * 1000 for _, begin, end in windows)
    if windows:
        scheduled, _, ended = windows[0]
        record.call = CallFact(
            order_id=result.name,
            decided_at=result.breaker_read_at() or scheduled,
            started_at=scheduled,
            reported_at=ended,
            failed=found.reason == "call_failed",
            role="probe" if PROBE_STATE in result.path else "closed",
        )
    return record


def assign_episodes(records: list[OrderRecord], half_open_moves: list[float]) -> None:
    """Name each probe by the half-open move it followed (the latest move before its call)."""
    moves = sorted(half_open_moves)
    for record in records:
        call = record.call
        if call is not None and call.role == "probe":
            index = bisect.bisect_right(moves, call.started_at)
            record.call = CallFact(
                call.order_id, call.decided_at, call.started_at, call.reported_at, call.failed, "probe", str(index)
            )


class Breakwater(Policy):
    """The deployed state machine: a fresh stack per run, executions started at the scheduled times."""

    name = "breakwater"
    has_replay = True

    def __init__(self, settings: BreakerSettings) -> None:
        super().__init__(settings)
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-breakwater")
        self._env: EmbeddedStack | None = None
        self._stack: Stack | None = None
        self._pending: list[tuple[str, float, Any]] = []
        self._results: list[tuple[ExecutionResult, float]] = []
        self._replayed: list[ExecutionResult] = []
        self._replay_stop = threading.Event()
        self._replay_thread: threading.Thread | None = None

    def prepare(self, env: EmbeddedStack, run_name: str) -> None:
        self._env = env
        self._stack = env.deploy(run_name, **self.settings.template_parameters())
        self._sfn = env.client("stepfunctions")
        self._dynamodb = env.client("dynamodb")
        self._sqs = env.client("sqs")
        self._pending, self._results, self._replayed = [], [], []
        warm(env, self._stack.outputs["PaymentFunctionArn"], self.settings.warm_environments, self.settings.service)
        env.run(self._stack, WARM_UP_ORDER)  # a healthy success writes nothing to the breaker

    @property
    def stack(self) -> Stack:
        assert self._stack is not None
        return self._stack

    def submit(self, orders: list[dict[str, Any]]) -> None:
        for order in orders:
            submitted = time.time()
            future = self._pool.submit(start, self._sfn, self.stack.state_machine_arn, order, order["orderId"])
            self._pending.append((order["orderId"], submitted, future))

    def drain(self) -> None:
        pending, self._pending = self._pending, []
        for _, submitted, future in pending:
            arn = future.result()
            self._results.append((wait(self._sfn, arn, EXECUTION_TIMEOUT, poll=POLL_SECONDS), submitted))

    def records(self) -> list[OrderRecord]:
        records = [record_of(result, submitted) for result, submitted in self._results]
        cooled = (BreakerState.OPEN, BreakerState.HALF_OPEN)
        moves = [at for at, before, after in self.transitions() if (before, after) == cooled]
        assign_episodes(records, moves)
        return records

    def transitions(self) -> list[Transition]:
        """The breaker moves the executions made: the orders' own, and the replays' (which can close it)."""
        executions = [result for result, _ in self._results] + self._replayed
        return sorted(transition for result in executions for transition in result.transitions())

    def start_replay(self) -> None:
        """Poll the fallback queue into the replay function while the scenario runs, as the Lambda service does."""
        assert self._env is not None
        source = self._env.replay_source(self.stack)
        self._replay_stop.clear()

        def poll() -> None:
            while not self._replay_stop.wait(REPLAY_POLL_SECONDS):
                with contextlib.suppress(Exception):  # a failed poll is retried at the next one, as the service does
                    source.poll_once()

        self._replay_thread = threading.Thread(target=poll, name="bench-replay", daemon=True)
        self._replay_thread.start()

    def stop_replay(self) -> None:
        """Stop polling; wait for the replayed executions and keep them (their transitions count)."""
        if self._replay_thread is None:
            return
        self._replay_stop.set()
        self._replay_thread.join(30)
        self._replay_thread = None
        listed = self._sfn.list_executions(stateMachineArn=self.stack.state_machine_arn, maxResults=1000)
        for execution in listed.get("executions", []):
            if execution["name"].startswith(REPLAY_PREFIX):
                self._replayed.append(wait(self._sfn, execution["executionArn"], EXECUTION_TIMEOUT, poll=POLL_SECONDS))

    def cooldown_expiry(self) -> float | None:
        breaker = read(self._dynamodb, self.stack.table_name, self.settings.service)
        if breaker.state != BreakerState.OPEN or breaker.open_until_ms is None:
            return None
        return breaker.open_until_ms / 1000

    def queue_depth(self) -> int:
        return queue_depth(self._sqs, self.stack.queue_url)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
