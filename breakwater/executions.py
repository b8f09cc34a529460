"""Start executions, wait for them, and read their history the way the console shows it."""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from breakwater.asl import path_rules, state_metadata
from breakwater.breaker_record import BreakerState
from breakwater.errors import ExecutionTimeout

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@functools.cache
def transition_tasks() -> dict[str, tuple[BreakerState, BreakerState]]:
    """The workflow's conditional writes that move the breaker, and the move each makes (the source's
    ``x-breaker-transition``: breakwater/asl.py)."""
    return {
        state: (BreakerState(move["from"]), BreakerState(move["to"]))
        for state, move in state_metadata("x-breaker-transition").items()
    }


_ENTERED_SUFFIX = "StateEntered"


class Outcome(NamedTuple):
    """What became of an execution's order, decided here once for every front end.

    ``kind``: the output's ``status`` (charged, declined, queued) for an execution that succeeded, ``other`` for
    one whose output names none; ``invalid`` (InvalidOrder), ``failed`` (any other error, or TIMED_OUT, ABORTED)
    or ``running``. ``reason`` is why the order was queued, ``breaker`` the state the output reports, ``error``
    the failed execution's error.
    """

    kind: str
    reason: str | None = None
    breaker: str | None = None
    error: str | None = None


def outcome_of(status: str, output: Any, error: str | None) -> Outcome:
    """The outcome of an execution from its status, its parsed output and its error."""
    if status == "RUNNING":
        return Outcome("running")
    if status != "SUCCEEDED":
        return Outcome("invalid" if error == "InvalidOrder" else "failed", error=error)
    result = output if isinstance(output, dict) else {}
    reason, breaker = result.get("reason"), result.get("breaker")
    return Outcome(
        str(result["status"]) if result.get("status") else "other",
        str(reason) if reason else None,
        str(breaker) if breaker else None,
    )


END_EVENTS = ("TaskSucceeded", "TaskFailed", "TaskTimedOut")


def _seconds(event: dict[str, Any]) -> float:
    return float(event["timestamp"].timestamp())


def _first_after(events: list[dict[str, Any]], index: int, types: tuple[str, ...]) -> dict[str, Any] | None:
    return next((e for e in events[index + 1 :] if e["type"] in types), None)


class Transition(NamedTuple):
    """A breaker state change: when (epoch seconds), the state before and the state after."""

    at: float
    before: str
    after: str


@dataclass(frozen=True)
class PathCost:
    """What one execution consumed, counted from its history (see DESIGN.md, cost budget)."""

    states_entered: int
    dynamodb_reads: int
    dynamodb_writes: int
    lambda_invocations: int
    sqs_messages: int

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        """States, reads, writes, Lambda invocations, SQS messages."""
        return (
            self.states_entered,
            self.dynamodb_reads,
            self.dynamodb_writes,
            self.lambda_invocations,
            self.sqs_messages,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "states": self.states_entered,
            "reads": self.dynamodb_reads,
            "writes": self.dynamodb_writes,
            "lambda": self.lambda_invocations,
            "sqs": self.sqs_messages,
        }


_EXITED_SUFFIX = "StateExited"
ERROR_SUFFIXES = ("Failed", "TimedOut", "Aborted")  # an event of these kinds inside a state is an error in it
_EXECUTION_ENDS = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")


@dataclass(frozen=True)
class StateVisit:
    """One entry into a state, from its ``...StateEntered`` event to its ``...StateExited`` event, or to the event
    that ended the execution in it (``ended`` None while it runs).

    ``exited``: it was left normally; ``errored``: an error in it that no later success in it cleared (a Catch
    took it when it was left, or it failed the execution). ``input`` and ``output`` as the history logged them.
    """

    name: str
    entered: Any
    ended: Any
    exited: bool
    errored: bool
    input: str | None
    output: str | None


def state_visits(events: list[dict[str, Any]]) -> list[StateVisit]:
    """The states an execution entered, in order; a state entered twice (a loop, a redrive) is two visits."""
    visits: list[StateVisit] = []
    current: dict[str, Any] | None = None

    def close(ended: Any, exited: bool, output: str | None) -> None:
        assert current is not None
        visits.append(StateVisit(**{**current, "ended": ended, "exited": exited, "output": output}))

    for event in events:
        kind = str(event["type"])
        details = event.get("stateEnteredEventDetails")
        if kind.endswith(_ENTERED_SUFFIX) and details is not None:
            if current is not None:  # entered another state without leaving this one: it has not ended
                close(None, False, None)
            current = {"name": details["name"], "entered": event["timestamp"], "errored": False}
            current["input"] = details.get("input")
        elif current is None:
            continue
        elif kind.endswith(_EXITED_SUFFIX):
            close(event["timestamp"], True, (event.get("stateExitedEventDetails") or {}).get("output"))
            current = None
        elif kind in _EXECUTION_ENDS:
            close(event["timestamp"], False, None)
            current = None
        elif kind.startswith("Execution"):
            continue
        elif kind.endswith(ERROR_SUFFIXES):
            current["errored"] = True
        elif kind.endswith("Succeeded"):
            current["errored"] = False  # a retry that worked
    if current is not None:
        close(None, False, None)
    return visits


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
    # What one walk of the history found, kept for the events it walked (the list and its length): the bench and
    # the scale figures ask a result for its path, cost and label many times.
    _walked: dict[str, tuple[int, int, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _once(self, what: str, walk: Callable[[list[dict[str, Any]]], Any]) -> Any:
        key = (id(self.events), len(self.events))
        kept = self._walked.get(what)
        if kept is None or kept[:2] != key:
            kept = (*key, walk(self.events))
            self._walked[what] = kept
        return kept[2]

    @property
    def path(self) -> list[str]:
        """Names of the states entered, in order."""
        return [visit.name for visit in self.visits]

    @property
    def visits(self) -> list[StateVisit]:
        """Each entry into a state (:func:`state_visits`)."""
        return list(self._once("visits", state_visits))

    def scheduled(self) -> Counter[str]:
        """Service calls scheduled, keyed ``resourceType:resource`` (retries included)."""
        return Counter(self._once("scheduled", _scheduled))

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

    def transitions(self) -> list[Transition]:
        """The breaker transitions this execution made (its conditional writes that won), in time order."""
        found = []
        for state, (before, after) in transition_tasks().items():
            at = self.task_succeeded_at(state)
            if at is not None:
                found.append(Transition(at.timestamp(), before, after))
        return sorted(found)

    @property
    def label(self) -> str:
        """A short name for the path this execution took (a row of the cost budget, breakwater/budget.py)."""
        return path_label(self)

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.status, self.output, self.error)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The event table (:func:`event_rows`)."""
        return event_rows(self.events)

    def task_windows(self, resource_type: str, function: str | None = None) -> list[tuple[float, float, float]]:
        """Each task of ``resource_type`` (lambda, dynamodb, ...): (scheduled, started, ended) in epoch seconds.

        With ``function``, only the Lambda tasks that invoke that function (their ``FunctionName``).
        """
        events = self.events
        windows = []
        for i, event in enumerate(events):
            details = event.get("taskScheduledEventDetails")
            if event["type"] != "TaskScheduled" or not details or details["resourceType"] != resource_type:
                continue
            if function is not None and json.loads(details.get("parameters") or "{}").get("FunctionName") != function:
                continue
            started = _first_after(events, i, ("TaskStarted",))
            ended = _first_after(events, i, END_EVENTS)
            if ended is not None:
                begin = _seconds(started) if started is not None else _seconds(event)
                windows.append((_seconds(event), begin, _seconds(ended)))
        return windows

    def breaker_read_at(self) -> float | None:
        """When the execution's GetItem of the breaker answered (epoch seconds)."""
        for i, event in enumerate(self.events):
            details = event.get("taskScheduledEventDetails")
            if event["type"] == "TaskScheduled" and details and details["resource"] == "getItem":
                ended = _first_after(self.events, i, END_EVENTS)
                return _seconds(ended) if ended is not None else None
        return None


def _scheduled(events: list[dict[str, Any]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details:
            counts[f"{details['resourceType']}:{details['resource']}"] += 1
    return counts


def path_label(result: ExecutionResult) -> str:
    """Name the path an execution took, by the source's ``x-paths`` rules (breakwater/asl.py): the first that
    matches; a failed execution that did not reject its order is ``failed (<error>)``."""
    entered = set(result.path)
    output = result.output if isinstance(result.output, dict) else {}
    breaker = str(output.get("breaker") or "unrecorded").lower()
    for rule in path_rules():
        if bool(rule.get("failed")) != bool(result.error):
            continue
        if (
            ("entered" not in rule or rule["entered"] in entered)
            and ("reason" not in rule or output.get("reason") == rule["reason"])
            and ("status" not in rule or output.get("status") == rule["status"])
            and ("flag" not in rule or bool(output.get(rule["flag"])))
        ):
            return str(rule["name"]).replace("{breaker}", breaker)
    return f"failed ({result.error})" if result.error else "other"


def failed_tasks(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each task that failed or timed out: its state, resource type, error, cause, and the retries its state made."""
    tasks: list[dict[str, Any]] = []
    state = ""
    scheduled: Counter[str] = Counter()
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            state = entered["name"]
        if event["type"] == "TaskScheduled":
            scheduled[state] += 1
        details = event.get("taskFailedEventDetails") or event.get("taskTimedOutEventDetails")
        if details:
            tasks.append(
                {
                    "state": state,
                    "resourceType": details.get("resourceType"),
                    "error": details.get("error"),
                    "cause": details.get("cause"),
                }
            )
    for task in tasks:
        task["retries"] = max(0, scheduled[task["state"]] - 1)
    return tasks


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


HistoryReader = Callable[[str], list[dict[str, Any]] | None]
Waiter = Callable[[str, float], None]


@dataclass(frozen=True)
class InProcess:
    """An embedded local stack's shortcuts, carried by the Step Functions clients it hands out.

    ``history`` reads a finished execution's history from the stack's moto in the API's shapes, without
    serialising it through the API (moto's serialisation costs more than the execution); ``wait`` waits for an
    execution to leave RUNNING without describe_execution round trips (which compete for the GIL with the
    interpreter). Both answer only for executions the stack holds; for others :func:`history` and :func:`wait`
    use the API, as with any client.
    """

    history: HistoryReader
    wait: Waiter


_IN_PROCESS = "_breakwater_in_process"


def reading_in_process(sfn: Any, shortcuts: InProcess) -> Any:
    """``sfn``, which from now on carries ``shortcuts`` (the embedded stack's clients do)."""
    setattr(sfn, _IN_PROCESS, shortcuts)
    return sfn


def _in_process(sfn: Any) -> InProcess | None:
    found = getattr(sfn, _IN_PROCESS, None)
    return found if isinstance(found, InProcess) else None


def history(sfn: SFNClient, execution_arn: str) -> list[dict[str, Any]]:
    """Every history event, oldest first, across pages."""
    shortcuts = _in_process(sfn)
    found = shortcuts.history(execution_arn) if shortcuts is not None else None
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


def wait(sfn: SFNClient, execution_arn: str, timeout: float = 60.0, poll: float = 0.01) -> ExecutionResult:
    """Wait until the execution ends (polling the API); raise ExecutionTimeout after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    shortcuts = _in_process(sfn)
    if shortcuts is not None:
        shortcuts.wait(execution_arn, timeout)
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
