"""Start executions, wait for them, and read their history the way the console shows it."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from breakwater.errors import ExecutionTimeout

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
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


def unique_name(prefix: str = "bw") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def history(sfn: SFNClient, execution_arn: str) -> list[dict[str, Any]]:
    """Every history event, oldest first, across pages."""
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
    """Poll until the execution ends; raise ExecutionTimeout after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise ExecutionTimeout(f"execution {execution_arn} still {description['status']} after {timeout:g}s")
        time.sleep(poll)
    raw_output = description.get("output")
    return ExecutionResult(
        arn=execution_arn,
        name=description["name"],
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
