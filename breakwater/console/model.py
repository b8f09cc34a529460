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

from breakwater.aws import Stack, Target, find_stack, stack_service_name
from breakwater.breaker import MODES, OVERRIDES, Breaker, override, read_all, set_mode, valid_service
from breakwater.console.history import EventRow, Mark, state_marks, table
from breakwater.console.picture import Picture, picture
from breakwater.errors import BreakwaterError
from breakwater.executions import TERMINAL, ExecutionResult, result_from
from breakwater.transition_history import TransitionHistory, ending_as_recorded, stream_transitions

STATUSES = ("RUNNING", *sorted(TERMINAL))
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
    """charged, declined, queued (with its reason), or the failed execution's error."""
    if status == "RUNNING":
        return Outcome("running", "running")
    if status != "SUCCEEDED":
        return Outcome("failed", error or status.lower())
    result = output if isinstance(output, dict) else {}
    kind = result.get("status")
    if kind == "queued":
        reason = result.get("reason")
        return Outcome("queued", f"queued ({reason})" if reason else "queued")
    if kind in ("charged", "declined"):
        return Outcome(str(kind), str(kind))
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

    @property
    def running(self) -> bool:
        return self.result.status == "RUNNING"

    @property
    def duration(self) -> str:
        return duration_text(self.start, self.stop)


def valid_execution_arn(arn: str) -> str:
    if not _EXECUTION_ARN.match(arn):
        raise NotFound(f"{arn!r} is not a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:...)")
    return arn


def check_filters(status: str | None, outcome: str | None) -> None:
    """The executions list's filters: a status of ``STATUSES``, an outcome of ``OUTCOMES``, or none."""
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status {status!r}: must be one of {', '.join(STATUSES)}")
    if outcome is not None and outcome not in OUTCOMES:
        raise BadRequest(f"outcome {outcome!r}: must be one of {', '.join(OUTCOMES)}")


class ConsoleData:
    """The console's reads and writes for one stack at one endpoint; thread-safe."""

    def __init__(self, target: Target, stack_name: str) -> None:
        self.target = target
        self.stack_name = stack_name
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._resources: Stack | None = None
        self._finished: dict[str, ExecutionRow] = {}
        self._default_service: str | None = None

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.target.client(service)
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
            return []  # EXPRESS workflows keep no execution history to list
        sfn = self.client("stepfunctions")
        kwargs: dict[str, Any] = {"stateMachineArn": machine.arn, "maxResults": LIST_LIMIT}
        if status:
            kwargs["statusFilter"] = status
        listed = sfn.list_executions(**kwargs)["executions"]
        rows = [self._row(sfn, item) for item in listed]
        rows.sort(key=lambda row: row.start, reverse=True)
        return [row for row in rows if outcome is None or row.outcome.kind == outcome]

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

    def execution(self, arn: str) -> ExecutionView:
        sfn = self.client("stepfunctions")
        try:
            described = sfn.describe_execution(executionArn=valid_execution_arn(arn))
            definition = json.loads(sfn.describe_state_machine_for_execution(executionArn=arn)["definition"])
            result = result_from(sfn, arn, described)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn", "ResourceNotFound"):
                raise NotFound(f"no execution {arn} at {self.where}") from None
            raise
        marks = state_marks(result.events, result.status)
        return ExecutionView(
            result=result,
            state_machine_arn=described["stateMachineArn"],
            input=_parse_json(described.get("input")),
            start=described["startDate"],
            stop=described.get("stopDate"),
            outcome=outcome_of(result.status, result.output, result.error),
            marks=marks,
            graph=picture(definition, marks, result.path),
            events=table(result.events),
        )

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
