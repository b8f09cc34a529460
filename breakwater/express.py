"""EXPRESS executions, read from the state machine's CloudWatch Logs as the Step Functions console reads them.

EXPRESS workflows keep no execution history: Step Functions writes each history event its logging level admits
to the log group of the state machine's ``loggingConfiguration``, one JSON log event each (``id``, ``type``,
``details``, ``previous_event_id``, ``event_timestamp``, ``execution_arn``, ``redrive_count``). These functions
list executions and rebuild one execution's history from those events with the Logs API (FilterLogEvents), so
the console's pages work the same against AWS and the local stack. With the level ``ALL`` every event is there;
with ``ERROR`` only failures; without ``IncludeExecutionData`` no input or output.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

LIST_HOURS = 3.0  # how far back the list reaches, as the AWS console's default
MAX_PAGES = 20  # FilterLogEvents pages read for one list or one execution
_END_STATUS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
_DETAILS_OF = {"StateEntered": "stateEnteredEventDetails", "StateExited": "stateExitedEventDetails"}
_MACHINE = re.compile(r"^(arn:[^:]+:states:[^:]+:\d{12}):(?:execution|express):([^:]+):.+$")


def log_group_of(sfn: Any, state_machine_arn: str) -> str | None:
    """The name of the log group the state machine logs to (None when it logs nowhere)."""
    configuration = sfn.describe_state_machine(stateMachineArn=state_machine_arn).get("loggingConfiguration") or {}
    if str(configuration.get("level") or "OFF") == "OFF":
        return None
    for destination in configuration.get("destinations") or []:
        arn = str((destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or "")
        parts = arn.split(":")  # arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
        if len(parts) >= 7 and parts[5] == "log-group":
            return parts[6]
    return None


def state_machine_of(execution_arn: str) -> str | None:
    """The state machine ARN of an execution ARN (``execution:`` or EXPRESS's ``express:``)."""
    found = _MACHINE.match(execution_arn)
    return f"{found.group(1)}:stateMachine:{found.group(2)}" if found else None


def _events(logs: Any, group: str, **request: Any) -> Iterator[dict[str, Any]]:
    """The group's log events (FilterLogEvents, every stream), parsed; events that are not JSON are skipped."""
    request = {"logGroupName": group, **request}
    for _ in range(MAX_PAGES):
        page = logs.filter_log_events(**request)
        for event in page.get("events", []):
            try:
                message = json.loads(event["message"])
            except (ValueError, KeyError):
                continue
            if isinstance(message, dict) and "execution_arn" in message:
                yield message
        token = page.get("nextToken")
        if not token:
            return
        request["nextToken"] = token


def _moment(message: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(message["event_timestamp"]) / 1000, tz=dt.UTC)


def _parse(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return text


@dataclass(frozen=True)
class LoggedExecution:
    """An EXPRESS execution as its log events tell it."""

    arn: str
    name: str
    status: str
    start: dt.datetime
    stop: dt.datetime | None
    output: Any
    error: str | None


def execution_name(arn: str) -> str:
    """The name part of an execution ARN (EXPRESS ARNs end ``:NAME:ID``)."""
    parts = arn.split(":")
    return parts[7] if len(parts) > 7 else parts[-1]


def list_executions(logs: Any, group: str, now: dt.datetime, hours: float = LIST_HOURS) -> list[LoggedExecution]:
    """The executions with events in the last ``hours``, newest first."""
    since = int((now - dt.timedelta(hours=hours)).timestamp() * 1000)
    seen: dict[str, dict[str, Any]] = {}
    for message in _events(logs, group, startTime=since):
        arn = str(message["execution_arn"])
        entry = seen.setdefault(arn, {"start": _moment(message), "stop": None, "status": "RUNNING", "details": {}})
        kind = str(message.get("type"))
        entry["start"] = min(entry["start"], _moment(message))
        if kind in _END_STATUS:
            entry["status"], entry["stop"] = _END_STATUS[kind], _moment(message)
            entry["details"] = message.get("details") or {}
    found = [
        LoggedExecution(
            arn=arn,
            name=execution_name(arn),
            status=entry["status"],
            start=entry["start"],
            stop=entry["stop"],
            output=_parse(entry["details"].get("output")),
            error=entry["details"].get("error"),
        )
        for arn, entry in seen.items()
    ]
    return sorted(found, key=lambda e: e.start, reverse=True)


def _details_key(kind: str) -> str:
    for suffix, key in _DETAILS_OF.items():
        if kind.endswith(suffix):
            return key
    return kind[:1].lower() + kind[1:] + "EventDetails"


def history(logs: Any, group: str, execution_arn: str) -> list[dict[str, Any]]:
    """The execution's history events, as GetExecutionHistory shapes them, from its log events (oldest first)."""
    events = []
    for message in _events(logs, group, filterPattern=f'"{execution_arn}"'):
        if message.get("execution_arn") != execution_arn:
            continue
        kind = str(message["type"])
        event: dict[str, Any] = {
            "id": int(message["id"]),
            "previousEventId": int(message.get("previous_event_id") or 0),
            "type": kind,
            "timestamp": _moment(message),
        }
        if isinstance(message.get("details"), dict):
            event[_details_key(kind)] = message["details"]
        events.append(event)
    return sorted(events, key=lambda e: (e["timestamp"], e["id"]))


def status_of(events: list[dict[str, Any]]) -> str:
    """RUNNING until an event ended the execution."""
    for event in reversed(events):
        if event["type"] in _END_STATUS:
            return _END_STATUS[event["type"]]
    return "RUNNING"
