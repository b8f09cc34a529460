"""Patch ``execution_logs``: moto never writes a state machine's execution log events (it starts every execution
without a logging session, and its writer would fail on its own timestamps). AWS writes each history event that
the state machine's ``LoggingConfiguration`` level admits (ALL, ERROR, FATAL; the table of the Step Functions
developer guide, "Log levels") to the log group it names, as one JSON log event each: ``id``, ``type``,
``details``, ``previous_event_id``, ``event_timestamp`` (epoch milliseconds), ``execution_arn``,
``redrive_count``, all strings but ``details``; without ``IncludeExecutionData`` the details lose their input,
output, parameters and assigned variables. This is how AWS (and its console) keep EXPRESS executions, which
have no execution history.

The log stream is named ``states/<state machine>/<YYYY-MM-DD-HH-MM>/00000000`` as in a recording of AWS's
(docs/console.md cites it); the date is the minute the execution started (how AWS picks it is not documented).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from typing import Any

from moto.stepfunctions.parser.api import LogLevel
from moto.stepfunctions.parser.asl.eval.event import logging as sfn_logging
from moto.stepfunctions.parser.backend import execution as parser_execution

from breakwater.local.compat.base import Patch

_original_start = parser_execution.Execution.start
_LOCK = threading.Lock()
STREAM_SUFFIX = "00000000"
_DATA_KEYS = frozenset({"parameters", "assignedVariables", "assignedVariablesDetails"})


@dataclass(frozen=True)
class LogDestination:
    """Where and what a state machine logs: its log group, level and whether data is included."""

    account_id: str
    region: str
    group: str
    level: str
    include_execution_data: bool

    @classmethod
    def of(cls, configuration: Any) -> LogDestination | None:
        """From a state machine's ``loggingConfiguration`` (the API's shape); None when it logs nothing."""
        if not isinstance(configuration, dict):
            return None
        level = str(configuration.get("level") or "OFF")
        destinations = configuration.get("destinations") or []
        if level == "OFF" or len(destinations) != 1:
            return None
        arn = str((destinations[0].get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or "")
        parts = arn.split(":")  # arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
        if len(parts) < 7 or parts[5] != "log-group":
            return None
        return cls(parts[4], parts[3], parts[6], level, bool(configuration.get("includeExecutionData")))


def log_event(history_log: dict[str, Any], redrive_count: int) -> tuple[int, str]:
    """An execution log event as AWS writes it (time in epoch ms, JSON text), from moto's history log."""
    stamp = history_log["event_timestamp"]
    moment = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    ms = int(moment.timestamp() * 1000)
    kind = history_log["type"]
    message: dict[str, Any] = {"id": str(history_log["id"]), "type": str(getattr(kind, "value", kind))}
    if history_log.get("details") is not None:
        message["details"] = history_log["details"]
    message.update(
        previous_event_id=str(history_log["previous_event_id"]),
        event_timestamp=str(ms),
        execution_arn=str(history_log["execution_arn"]),
        redrive_count=str(redrive_count),
    )
    return ms, json.dumps(message, separators=(",", ":"), default=str)


class _Configuration:
    """What moto's event manager reads of a logging session's configuration."""

    def __init__(self, include_execution_data: bool) -> None:
        self.include_execution_data = include_execution_data


class ExecutionLogSession:
    """Writes one execution's admitted history events to its state machine's log group (moto's logs backend)."""

    def __init__(self, execution: Any, destination: LogDestination) -> None:
        self.execution = execution
        self.execution_arn = execution.exec_arn
        self.destination = destination
        self.configuration = _Configuration(destination.include_execution_data)
        started = execution.start_date.astimezone(dt.UTC)
        self.stream = f"states/{execution.state_machine.name}/{started:%Y-%m-%d-%H-%M}/{STREAM_SUFFIX}"

    def log_level_filter(self, history_event_type: Any) -> bool:
        return bool(sfn_logging.is_logging_enabled_for(LogLevel(self.destination.level), history_event_type))

    def publish_history_log(self, history_log: Any) -> None:
        from moto.logs.models import logs_backends

        history_log = dict(history_log)
        if not self.destination.include_execution_data and isinstance(history_log.get("details"), dict):
            # moto leaves out input and output; a task's parameters and a state's variables are data too.
            history_log["details"] = {k: v for k, v in history_log["details"].items() if k not in _DATA_KEYS}
        timestamp, message = log_event(history_log, int(getattr(self.execution, "redrive_count", 0)))
        backend = logs_backends[self.destination.account_id][self.destination.region]
        with _LOCK:
            group = backend.groups.get(self.destination.group)
            if group is None:  # the group is gone: AWS cannot deliver either
                return
            if self.stream not in group.streams:
                group.create_log_stream(self.stream)
            group.put_log_events(self.stream, [{"timestamp": timestamp, "message": message}])


def _start(self: Any) -> None:
    """Start the execution with a logging session when its state machine logs to CloudWatch Logs."""
    machine = self.state_machine
    destination = LogDestination.of(getattr(machine, "loggingConfiguration", None))
    if destination is not None:
        self._cloud_watch_logging_session = ExecutionLogSession(self, destination)
    _original_start(self)


PATCH = Patch(
    "execution_logs",
    "executions write their history events to the state machine's log group, at its level, in AWS's format",
    [(parser_execution.Execution, "start", _start)],
)
