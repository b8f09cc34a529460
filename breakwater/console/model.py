"""What the console reads, through boto3 clients for a ``Target``: executions, one execution, breakers.

Resources come from the stack's outputs (``find_stack``), so the same code reads the local stack
and a stack on AWS. Finished executions never change: their list rows are kept once read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from breakwater import express
from breakwater.aws import Stack, Target, find_stack, stack_service_name
from breakwater.breaker import MODES, OVERRIDES, Breaker, override, read_all, set_mode, valid_service
from breakwater.console.history import EventRow, Mark, state_marks, table
from breakwater.console.picture import Picture, picture
from breakwater.console.states import Gantt, StateRun, duration_label, gantt, state_runs
from breakwater.errors import BreakwaterError
from breakwater.executions import TERMINAL, ExecutionResult, result_from
from breakwater.executions import outcome_of as execution_outcome
from breakwater.express import state_machine_of
from breakwater.transition_history import TransitionHistory, ending_as_recorded, stream_transitions

STATUSES = ("RUNNING", *sorted(TERMINAL))
REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})  # what RedriveExecution takes (STANDARD only)
MAX_INPUT_BYTES = 256 * 1024  # Step Functions' limit on an execution's input
# An execution name, as StartExecution takes it: 1 to 80 characters, none of these (the API reference's list).
_NAME_REFUSED = re.compile(r'[\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]')
OUTCOMES = ("charged", "declined", "queued", "failed", "running")
LIST_LIMIT = 50  # newest executions listed per state machine
_EXECUTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(execution|express):[^\s:/]{1,80}:[^\s:/]{1,80}(:[^\s:/]+)?$"
)
_STATE_MACHINE_MARK = ":stateMachine:"
ACTIONS = (*OVERRIDES, *MODES)  # the operator buttons: the CLI's trip, reset, disable, shadow, enforce
EXPRESS = "EXPRESS"


class ConsoleError(BreakwaterError):
    """Something the console was asked for cannot be shown or done."""


class NotFound(ConsoleError):
    """No such execution, page or breaker."""


class BadRequest(ConsoleError):
    """A request with a value the console does not accept (a filter, a mode, a number)."""


@dataclass(frozen=True)
class Outcome:
    """What became of an order: ``kind`` is one of ``OUTCOMES`` (or ``other``), ``label`` what the list says."""

    kind: str
    label: str


def outcome_of(status: str, output: Any, error: str | None) -> Outcome:
    """charged, declined, queued (with its reason), or the failed execution's error (the console's words for
    :func:`breakwater.executions.outcome_of`)."""
    found = execution_outcome(status, output, error)
    if found.kind == "running":
        return Outcome("running", "running")
    if found.kind in ("failed", "invalid"):
        return Outcome("failed", found.error or status.lower())
    if found.kind == "queued":
        return Outcome("queued", f"queued ({found.reason})" if found.reason else "queued")
    if found.kind in ("charged", "declined"):
        return Outcome(found.kind, found.kind)
    return Outcome("other", "-")


def duration_text(start: dt.datetime, stop: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """``123 ms``, ``4.5 s`` or ``2 min 5 s``; a running execution counts up to ``now``."""
    end = stop or now or dt.datetime.now(tz=dt.UTC)
    ms = max(0, int((end - start).total_seconds() * 1000))
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms // 60_000} min {ms % 60_000 // 1000} s"


def time_text(moment: dt.datetime | None) -> str:
    if moment is None:
        return "-"
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d} UTC"


def ms_text(ms: int | None) -> str:
    """An epoch-milliseconds attribute of the breaker record, as a time."""
    return "-" if not ms else time_text(dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC))


def _parse_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class StateMachine:
    arn: str
    name: str
    type: str


@dataclass(frozen=True)
class ExecutionRow:
    """One line of the executions list."""

    arn: str
    name: str
    status: str
    outcome: Outcome
    start: dt.datetime
    stop: dt.datetime | None

    @property
    def duration(self) -> str:
        return duration_text(self.start, self.stop)


@dataclass(frozen=True)
class ExecutionView:
    """One execution page: the result, its input, the graph, the event table, the cost."""

    result: ExecutionResult
    state_machine_arn: str
    input: Any
    start: dt.datetime
    stop: dt.datetime | None
    outcome: Outcome
    marks: dict[str, Mark]
    graph: Picture
    events: list[EventRow]
    runs: list[StateRun]
    gantt: Gantt
    express: bool = False
    """An EXPRESS execution, read from its state machine's log events (no history, no stop or redrive)."""
    redrive_status: str | None = None
    """DescribeExecution's ``redriveStatus`` (REDRIVABLE, NOT_REDRIVABLE); None when it does not say."""
    redrive_reason: str | None = None

    @property
    def running(self) -> bool:
        return self.result.status == "RUNNING"

    @property
    def stoppable(self) -> bool:
        """StopExecution applies: a running STANDARD execution."""
        return self.running and not self.express

    @property
    def redrivable(self) -> bool:
        """RedriveExecution applies: a STANDARD execution that failed, was aborted or timed out."""
        if self.express or self.result.status not in REDRIVABLE:
            return False
        return self.redrive_status in (None, "REDRIVABLE")

    @property
    def duration_of(self) -> dict[int, str]:
        """Each state entry's duration, by the id of its StateEntered event (the event table's column)."""
        entered = [row.id for row in self.events if row.type.endswith("StateEntered")]
        return {event_id: duration_label(run.duration_ms) for event_id, run in zip(entered, self.runs, strict=False)}

    @property
    def duration(self) -> str:
        return duration_text(self.start, self.stop)


def _kept(row: ExecutionRow, status: str | None, outcome: str | None) -> bool:
    return (status is None or row.status == status) and (outcome is None or row.outcome.kind == outcome)


def valid_execution_arn(arn: str) -> str:
    if not _EXECUTION_ARN.match(arn):
        raise NotFound(f"{arn!r} is not a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:...)")
    return arn


def check_input(text: str) -> Any:
    """An execution's input: JSON (a BadRequest naming where it stops being JSON), at most 256 KiB."""
    if len(text.encode()) > MAX_INPUT_BYTES:
        raise BadRequest(f"the input is {len(text.encode())} bytes: Step Functions takes at most {MAX_INPUT_BYTES}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the input is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def check_name(name: str) -> str:
    """An execution name as StartExecution takes it (1 to 80 characters, no space, no <>{}[]?*"#%\\^|~`$&,;:/)."""
    if not 1 <= len(name) <= 80 or _NAME_REFUSED.search(name):
        raise BadRequest(
            f"name {name!r}: 1 to 80 characters, without spaces, control characters or any of"
            ' < > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /'
        )
    return name


def check_length(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise BadRequest(f"{field}: at most {limit} characters")
    return value


def check_filters(status: str | None, outcome: str | None) -> None:
    """The executions list's filters: a status of ``STATUSES``, an outcome of ``OUTCOMES``, or none."""
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status {status!r}: must be one of {', '.join(STATUSES)}")
    if outcome is not None and outcome not in OUTCOMES:
        raise BadRequest(f"outcome {outcome!r}: must be one of {', '.join(OUTCOMES)}")


class ConsoleData:
    """The console's reads and writes for one stack at one endpoint; thread-safe."""

    def __init__(self, target: Target, stack_name: str, local_stack: bool = False) -> None:
        self.target = target
        self.stack_name = stack_name
        self.local_stack = local_stack  # the embedded stack: one host serves every API, as at a local endpoint
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._resources: Stack | None = None
        self._finished: dict[str, ExecutionRow] = {}
        self._default_service: str | None = None

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.target.client(service, host_prefix=False if self.local_stack else None)
            return self._clients[service]

    def resources(self) -> Stack:
        """The stack's outputs, read once it exists (a missing stack is retried on the next request)."""
        if self._resources is None:
            self._resources = find_stack(self.target, self.stack_name)
        return self._resources

    # -- executions ------------------------------------------------------------------

    def state_machines(self) -> list[StateMachine]:
        sfn = self.client("stepfunctions")
        machines = []
        for value in sorted(set(self.resources().outputs.values())):
            if _STATE_MACHINE_MARK in value:
                described = sfn.describe_state_machine(stateMachineArn=value)
                machines.append(StateMachine(arn=value, name=described["name"], type=described.get("type", "")))
        return machines

    def executions(
        self, machine: StateMachine, status: str | None = None, outcome: str | None = None
    ) -> list[ExecutionRow]:
        """The newest executions of ``machine``, newest first, filtered by status and outcome."""
        check_filters(status, outcome)
        if machine.type == EXPRESS:
            return [row for row in self._express_rows(machine) if _kept(row, status, outcome)]
        sfn = self.client("stepfunctions")
        kwargs: dict[str, Any] = {"stateMachineArn": machine.arn, "maxResults": LIST_LIMIT}
        if status:
            kwargs["statusFilter"] = status
        listed = sfn.list_executions(**kwargs)["executions"]
        rows = [self._row(sfn, item) for item in listed]
        rows.sort(key=lambda row: row.start, reverse=True)
        return [row for row in rows if outcome is None or row.outcome.kind == outcome]

    def _express_rows(self, machine: StateMachine) -> list[ExecutionRow]:
        """An EXPRESS state machine's executions of the last hours, from its log group (none if it logs nowhere)."""
        group = express.log_group_of(self.client("stepfunctions"), machine.arn)
        if group is None:
            return []
        now = dt.datetime.now(tz=dt.UTC)
        found = express.list_executions(self.client("logs"), group, now)[:LIST_LIMIT]
        return [
            ExecutionRow(
                arn=e.arn,
                name=e.name,
                status=e.status,
                outcome=outcome_of(e.status, e.output, e.error),
                start=e.start,
                stop=e.stop,
            )
            for e in found
        ]

    def log_group(self, machine: StateMachine) -> str | None:
        """Where an EXPRESS state machine's executions are kept (its log group), for the list to say so."""
        return express.log_group_of(self.client("stepfunctions"), machine.arn)

    def _row(self, sfn: Any, item: dict[str, Any]) -> ExecutionRow:
        arn = item["executionArn"]
        with self._lock:
            known = self._finished.get(arn)
        if known is not None:
            return known
        described = sfn.describe_execution(executionArn=arn)
        status = described["status"]
        row = ExecutionRow(
            arn=arn,
            name=described["name"],
            status=status,
            outcome=outcome_of(status, _parse_json(described.get("output")), described.get("error")),
            start=described["startDate"],
            stop=described.get("stopDate"),
        )
        if status in TERMINAL:
            with self._lock:
                self._finished[arn] = row
        return row

    def machine_of(self, arn: str) -> StateMachine | None:
        """The state machine an execution ARN belongs to (None when it is not there)."""
        machine_arn = state_machine_of(valid_execution_arn(arn))
        if machine_arn is None:
            return None
        try:
            described = self.client("stepfunctions").describe_state_machine(stateMachineArn=machine_arn)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("StateMachineDoesNotExist", "InvalidArn"):
                return None
            raise
        return StateMachine(arn=machine_arn, name=described["name"], type=described.get("type", ""))

    def execution(self, arn: str, now: dt.datetime | None = None) -> ExecutionView:
        machine = self.machine_of(arn)
        if machine is not None and machine.type == EXPRESS:
            return self._express_execution(arn, machine, now)
        sfn = self.client("stepfunctions")
        try:
            described = sfn.describe_execution(executionArn=valid_execution_arn(arn))
            definition = json.loads(sfn.describe_state_machine_for_execution(executionArn=arn)["definition"])
            result = result_from(sfn, arn, described)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn", "ResourceNotFound"):
                raise NotFound(f"no execution {arn} at {self.where}") from None
            raise
        return self._view(
            result,
            definition,
            described["stateMachineArn"],
            _parse_json(described.get("input")),
            described["startDate"],
            described.get("stopDate"),
            now,
            redrive_status=described.get("redriveStatus"),
            redrive_reason=described.get("redriveStatusReason"),
        )

    def _express_execution(self, arn: str, machine: StateMachine, now: dt.datetime | None) -> ExecutionView:
        """An EXPRESS execution from its state machine's log events, as the Step Functions console reads it."""
        sfn = self.client("stepfunctions")
        group = express.log_group_of(sfn, machine.arn)
        if group is None:
            raise NotFound(f"{machine.name} is EXPRESS and logs nothing: its executions cannot be read back")
        events = express.history(self.client("logs"), group, arn)
        if not events:
            raise NotFound(
                f"no log events of {arn} in {group} (EXPRESS executions are kept only in the log group; the"
                " state machine's log level must be ALL to list and open them)"
            )
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine.arn)["definition"])
        status = express.status_of(events)
        end = events[-1]
        details: dict[str, Any] = {}
        if status != "RUNNING":
            details = next((v for k, v in end.items() if k.endswith("EventDetails")), {})
        result = ExecutionResult(
            arn=arn,
            name=express.execution_name(arn),
            status=status,
            output=_parse_json(details.get("output")),
            error=details.get("error"),
            cause=details.get("cause"),
            events=events,
        )
        started = (
            (events[0].get("executionStartedEventDetails") or {}) if events[0]["type"] == "ExecutionStarted" else {}
        )
        stop = end["timestamp"] if status != "RUNNING" else None
        return self._view(
            result,
            definition,
            machine.arn,
            _parse_json(started.get("input")),
            events[0]["timestamp"],
            stop,
            now,
            express=True,
        )

    @staticmethod
    def _view(
        result: ExecutionResult,
        definition: dict[str, Any],
        state_machine_arn: str,
        given: Any,
        start: dt.datetime,
        stop: dt.datetime | None,
        now: dt.datetime | None,
        **extra: Any,
    ) -> ExecutionView:
        marks = state_marks(result.events, result.status)
        runs = state_runs(result.events, definition, marks)
        running_ms = None if stop is not None or now is None else int((now - start).total_seconds() * 1000)
        return ExecutionView(
            result=result,
            state_machine_arn=state_machine_arn,
            input=given,
            start=start,
            stop=stop,
            outcome=outcome_of(result.status, result.output, result.error),
            marks=marks,
            graph=picture(definition, marks, result.path),
            events=table(result.events),
            runs=runs,
            gantt=gantt(runs, running_ms),
            **extra,
        )

    # -- operating on executions -----------------------------------------------------------

    def start(self, machine_arn: str, name: str | None, text: str) -> tuple[str, dict[str, Any] | None]:
        """Start an execution of one of the stack's state machines with the JSON ``text`` as input.

        STANDARD: StartExecution, returns (ARN, None). EXPRESS: StartSyncExecution, returns (ARN, the answer).
        """
        machine = next((m for m in self.state_machines() if m.arn == machine_arn), None)
        if machine is None:
            raise BadRequest(f"{machine_arn!r} is not a state machine of stack {self.stack_name}")
        check_input(text)
        request: dict[str, Any] = {"stateMachineArn": machine.arn, "input": text}
        if name:
            request["name"] = check_name(name)
        sfn = self.client("stepfunctions")
        if machine.type == EXPRESS:
            answer = dict(sfn.start_sync_execution(**request))
            return str(answer["executionArn"]), answer
        return str(sfn.start_execution(**request)["executionArn"]), None

    def stop(self, arn: str, error: str, cause: str) -> None:
        """StopExecution with the operator's error and cause (each optional, as the API takes them)."""
        request: dict[str, Any] = {"executionArn": valid_execution_arn(arn)}
        if error:
            request["error"] = check_length("error", error, 256)
        if cause:
            request["cause"] = check_length("cause", cause, 32768)
        self.client("stepfunctions").stop_execution(**request)

    def redrive(self, arn: str) -> dt.datetime:
        """RedriveExecution: the execution runs again from the state that did not succeed."""
        answer = self.client("stepfunctions").redrive_execution(executionArn=valid_execution_arn(arn))
        return answer["redriveDate"]  # type: ignore[no-any-return]

    # -- breakers --------------------------------------------------------------------

    def default_service(self) -> str | None:
        """The stack's ``ServiceName`` parameter: the breaker every order without ``serviceName`` uses."""
        if self._default_service is None:  # read once found: a stack's parameters change only on update
            self._default_service = stack_service_name(self.target, self.stack_name)
        return self._default_service

    def breakers(self) -> list[Breaker]:
        """Every breaker record, plus the default service's breaker when it has no record yet (CLOSED)."""
        found = read_all(self.client("dynamodb"), self.resources().table_name)
        default = self.default_service()
        if default and default not in {b.service for b in found}:
            found = sorted([*found, Breaker(service=default, exists=False)], key=lambda b: b.service)
        return found

    def transitions(self, breakers: list[Breaker]) -> TransitionHistory:
        """The breakers' transitions at their true times (the table's stream), each ending in its record's state."""
        table = self.resources().table_name
        history = stream_transitions(self.client("dynamodb"), self.client("dynamodbstreams"), table)
        services = {b.service for b in breakers}
        shown = ending_as_recorded(history, breakers)
        return TransitionHistory(tuple(t for t in shown.transitions if t.service in services), shown.problem)

    def act(self, service: str, action: str) -> tuple[Breaker, Breaker]:
        """An operator button (``ACTIONS``): the CLI's conditional write, pinned to the record as read.

        As ``breakwater trip|reset|disable`` does, an override creates a record only for the stack's
        own ``ServiceName``: a service nobody uses yet is refused, not started.
        """
        if action not in ACTIONS:
            raise NotFound(f"no breaker action {action!r}: one of {', '.join(ACTIONS)}")
        try:
            valid_service(service)
        except BreakwaterError as exc:
            raise BadRequest(str(exc)) from None
        dynamodb, table_name = self.client("dynamodb"), self.resources().table_name
        if action in MODES:
            return set_mode(dynamodb, table_name, service, MODES[action])
        create = service == self.default_service()
        return override(dynamodb, table_name, service, OVERRIDES[action], create=create)

    @property
    def where(self) -> str:
        return self.target.endpoint or f"AWS ({self.target.region or 'default region'})"
