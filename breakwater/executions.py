"""Start executions, wait for them, and read their history the way the console shows it."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from breakwater.breaker_record import BreakerState
from breakwater.errors import ExecutionTimeout

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
# The workflow's conditional writes that move the breaker, and the move each makes.
TRANSITION_TASKS: dict[str, tuple[BreakerState, BreakerState]] = {
    "Open the circuit": (BreakerState.CLOSED, BreakerState.OPEN),
    "Open the circuit after a charged call": (BreakerState.CLOSED, BreakerState.OPEN),
    "Move circuit to half-open": (BreakerState.OPEN, BreakerState.HALF_OPEN),
    "Reopen the circuit": (BreakerState.HALF_OPEN, BreakerState.OPEN),
    "Close the circuit": (BreakerState.HALF_OPEN, BreakerState.CLOSED),
}
_ENTERED_SUFFIX = "StateEntered"


@dataclass(frozen=True)
class PathCost:
    """What one execution consumed, counted from its history (see DESIGN.md, cost budget)."""

    states_entered: int
    dynamodb_reads: int
    dynamodb_writes: int
    lambda_invocations: int
    sqs_messages: int

    def as_dict(self) -> dict[str, int]:
        return {
            "states": self.states_entered,
            "reads": self.dynamodb_reads,
            "writes": self.dynamodb_writes,
            "lambda": self.lambda_invocations,
            "sqs": self.sqs_messages,
        }


@dataclass
class ExecutionResult:
    """A finished execution: status, parsed output, error and full history."""

    arn: str
    name: str
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def path(self) -> list[str]:
        """Names of the states entered, in order."""
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.events
            if e["type"].endswith(_ENTERED_SUFFIX) and "stateEnteredEventDetails" in e
        ]

    def scheduled(self) -> Counter[str]:
        """Service calls scheduled, keyed ``resourceType:resource`` (retries included)."""
        counts: Counter[str] = Counter()
        for event in self.events:
            details = event.get("taskScheduledEventDetails")
            if details:
                counts[f"{details['resourceType']}:{details['resource']}"] += 1
        return counts

    def cost(self) -> PathCost:
        calls = self.scheduled()
        return PathCost(
            states_entered=len(self.path),
            dynamodb_reads=calls["dynamodb:getItem"],
            dynamodb_writes=calls["dynamodb:updateItem"] + calls["dynamodb:putItem"],
            lambda_invocations=calls["lambda:invoke"],
            sqs_messages=calls["sqs:sendMessage"],
        )

    def called_provider(self) -> bool:
        return self.scheduled()["lambda:invoke"] > 0

    def task_succeeded_at(self, state: str) -> Any:
        """When ``state``'s task succeeded (e.g. a conditional write that won, at once or on a retry), or None.

        A retried task fails and is scheduled again inside the same state; the state is over at its exit, or
        at the next state's entry when a Catch took the failure.
        """
        for i, event in enumerate(self.events):
            details = event.get("stateEnteredEventDetails")
            if details and details["name"] == state:
                for later in self.events[i + 1 :]:
                    if later["type"] == "TaskSucceeded":
                        return later["timestamp"]
                    if later["type"].endswith(("StateExited", _ENTERED_SUFFIX)) or later["type"].startswith(
                        "Execution"
                    ):
                        return None
        return None

    def task_succeeded(self, state: str) -> bool:
        return self.task_succeeded_at(state) is not None

    def transitions(self) -> list[tuple[Any, str, str]]:
        """Breaker transitions this execution performed: (time, from, to)."""
        found = []
        for state, (before, after) in TRANSITION_TASKS.items():
            at = self.task_succeeded_at(state)
            if at is not None:
                found.append((at, before, after))
        return sorted(found)

    @property
    def label(self) -> str:
        """A short name for the path this execution took (as in DESIGN.md's cost budget)."""
        return path_label(self)


def path_label(result: ExecutionResult) -> str:
    """Name the path an execution took, from its states and outcome."""
    path = set(result.path)
    output = result.output if isinstance(result.output, dict) else {}
    reason = output.get("reason")
    if result.error:
        return "invalid input" if "Reject invalid order" in path else f"failed ({result.error})"
    if output.get("status") == "declined":
        return "declined"
    probe = "Call provider as probe" in path
    checks = [
        (reason == "breaker_busy", "breaker table busy"),
        (reason == "concurrency_limit", "bulkhead full"),
        ("Call provider in shadow mode" in path, f"{str(output.get('breaker', '')).lower()}, shadow call"),
        ("Open the circuit after a charged call" in path, "closed, trip by a charged call"),
        (bool(output.get("slow")), "closed, slow success"),
        ("Count the successful call" in path, "closed, success inside a window with failures"),
        ("Reopen the circuit" in path, "half-open, probe fails"),
        ("Close the circuit" in path, "half-open, probe closes the breaker"),
        (probe, "half-open, probe succeeds"),
        (reason == "probe_busy", "half-open, no probe slot"),
        ("Open the circuit" in path, "closed, failure that trips"),
        ("Count the failure" in path, "closed, failure below threshold"),
        (reason == "circuit_open", "open, fast fail"),
        (reason == "forced_open", "forced open"),
        ("Call provider without recording" in path, f"{output.get('breaker', 'unrecorded').lower()}, call"),
        ("Clear the failure count" in path, "closed, success after failures"),
        (output.get("status") == "charged", "closed, success, no prior failures"),
    ]
    return next((name for matched, name in checks if matched), "other")


def event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The console's event table: id, type, step, resource, elapsed ms, time."""
    if not events:
        return []
    started = events[0]["timestamp"]
    step = ""
    rows = []
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            step = entered["name"]
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        resource = ""
        if "resourceType" in details:
            resource = f"{details['resourceType']}:{details['resource']}"
        rows.append(
            {
                "id": event["id"],
                "type": event["type"],
                "step": "" if event["type"].startswith("Execution") else step,
                "resource": resource,
                "elapsedMs": int((event["timestamp"] - started).total_seconds() * 1000),
                "time": event["timestamp"].isoformat(timespec="milliseconds"),
                "error": details.get("error"),
            }
        )
    return rows


def unique_name(prefix: str = "bw") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


# Set by the embedded local stack: reads a finished execution's history from this process's moto, in the API's
# shapes, without serialising it through the API (moto's history serialisation costs more than the execution).
_in_process_history: list[Callable[[str], list[dict[str, Any]] | None]] = []


HistoryReader = Callable[[str], list[dict[str, Any]] | None]


def read_history_in_process_with(reader: HistoryReader | None) -> HistoryReader | None:
    """Install (or, with None, remove) the reader :func:`history` tries before the API; returns the last."""
    previous = _in_process_history[0] if _in_process_history else None
    _in_process_history[:] = [reader] if reader else []
    return previous


def history(sfn: SFNClient, execution_arn: str) -> list[dict[str, Any]]:
    """Every history event, oldest first, across pages."""
    for reader in _in_process_history:
        found = reader(execution_arn)
        if found is not None:
            return found
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])  # type: ignore[arg-type]
        token = page.get("nextToken")
        if not token:
            return events
        kwargs["nextToken"] = token


# Set by the embedded local stack: waits for an execution of this process's moto without the API, so a
# waiting test costs no describe_execution round trips (which compete for the GIL with the interpreter).
_in_process_waiter: list[Callable[[str, float], None]] = []


def wait_in_process_with(waiter: Callable[[str, float], None] | None) -> Callable[[str, float], None] | None:
    """Install (or, with None, remove) the waiter that :func:`wait` tries before polling the API; returns the last."""
    previous = _in_process_waiter[0] if _in_process_waiter else None
    _in_process_waiter[:] = [waiter] if waiter else []
    return previous


def wait(sfn: SFNClient, execution_arn: str, timeout: float = 60.0, poll: float = 0.01) -> ExecutionResult:
    """Wait until the execution ends (polling the API); raise ExecutionTimeout after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    for waiter in _in_process_waiter:
        waiter(execution_arn, timeout)
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise ExecutionTimeout(f"execution {execution_arn} still {description['status']} after {timeout:g}s")
        time.sleep(poll)
    return result_from(sfn, execution_arn, description)


def describe(sfn: SFNClient, execution_arn: str) -> ExecutionResult:
    """An execution as it stands now (status, output, history), finished or not."""
    return result_from(sfn, execution_arn, sfn.describe_execution(executionArn=execution_arn))


def result_from(sfn: SFNClient, execution_arn: str, description: Any) -> ExecutionResult:
    raw_output = description.get("output")
    return ExecutionResult(
        arn=execution_arn,
        name=description.get("name") or execution_arn.rsplit(":", 1)[-1],
        status=description["status"],
        output=json.loads(raw_output) if raw_output else None,
        error=description.get("error"),
        cause=description.get("cause"),
        events=history(sfn, execution_arn),
    )


def start(sfn: SFNClient, state_machine_arn: str, order: Any, name: str | None = None, raw: bool = False) -> str:
    """Start one execution with ``order`` as input (any JSON value; with ``raw``, JSON text as is)."""
    payload = order if raw else json.dumps(order)
    response = sfn.start_execution(stateMachineArn=state_machine_arn, name=name or unique_name(), input=payload)
    return response["executionArn"]


def run(
    sfn: SFNClient, state_machine_arn: str, order: Any, name: str | None = None, timeout: float = 60.0
) -> ExecutionResult:
    """Start an execution and wait for its end."""
    return wait(sfn, start(sfn, state_machine_arn, order, name), timeout)
