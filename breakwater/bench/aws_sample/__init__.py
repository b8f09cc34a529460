"""The ``aws-sample`` policy: AWS's Step Functions circuit-breaker sample, as a Standard workflow of its own.

Written here from the sample's description (aws-samples circuit-breaker-netcore-blog, on the AWS
Compute Blog and Serverless Land); no code is copied. ``template.yaml`` beside this file deploys it on
the local stack as SAM would: a Lambda (``functions/status``) reads the circuit's status with a strongly
consistent Query, a Choice branches, the payment function deployed from Breakwater's template is called,
and on any failure a Lambda (``functions/trip``) writes an OPEN item that expires after ``OpenSeconds``.
One failure opens the circuit; there is no half-open state: when the item expires every order calls
again. A healthy order is 4 states and 2 Lambda invocations.

Two changes, both kindnesses that make the comparison about the algorithm: blocked and failed orders go
to the Breakwater stack's fallback queue (the sample has no fallback, so they would be lost), and a
declined card or an invalid order does not open the circuit (the sample catches every error). The OPEN
item lasts the benchmark's cooldown rather than the sample's 20 s, so the policies wait alike.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from breakwater.aws import Stack
from breakwater.bench.policies import WARM_UP_ORDER, Policy, warm
from breakwater.bench.records import CallFact, OrderRecord
from breakwater.bench.settings import BreakerSettings
from breakwater.bench.workflow import EXECUTION_TIMEOUT, POLL_SECONDS, record_of
from breakwater.breaker_record import BreakerState
from breakwater.executions import ExecutionResult, Transition, start, wait
from breakwater.local.deploy import deploy
from breakwater.local.stack import EmbeddedStack

TEMPLATE = Path(__file__).with_name("template.yaml")
STATUS_STATE = "Get Circuit Status"
TRIP_STATE = "Update Circuit Status"
CALL_STATE = "Execute Lambda"


def _seconds(event: dict[str, Any]) -> float:
    return float(event["timestamp"].timestamp())


def _trips(result: ExecutionResult) -> list[tuple[float, float]]:
    """(written at, open until) of each OPEN item this execution wrote."""
    trips = []
    for event in result.events:
        details = event.get("taskSucceededEventDetails")
        if not details:
            continue
        output = json.loads(details.get("output") or "{}")
        payload = output.get("Payload") if isinstance(output, dict) else None
        if isinstance(payload, dict) and "openUntilMs" in payload:
            trips.append((_seconds(event), int(payload["openUntilMs"]) / 1000))
    return trips


def sample_record(result: ExecutionResult, submitted: float, payment_arn: str) -> OrderRecord:
    """An order record from one execution of the sample's workflow (its DynamoDB requests are its Lambdas')."""
    record = record_of(result, submitted)
    path = record.states
    reason = record.reason if record.outcome != "lost" else None
    record.label = f"{'open' if 'Circuit Open' in path else 'closed'}, {reason or record.outcome}"
    record.dynamodb_reads = record.dynamodb_strong_reads = path.count(STATUS_STATE)
    record.dynamodb_writes = path.count(TRIP_STATE)
    record.call = None
    calls = result.task_windows("lambda", function=payment_arn)
    if calls:
        scheduled, _, ended = calls[0]
        lambdas = result.task_windows("lambda")
        status_read = lambdas[0][2] if lambdas else scheduled
        record.call = CallFact(result.name, status_read, scheduled, ended, record.reason == "call_failed")
    return record


def _queue_arn(url: str, region: str) -> str:
    """The ARN of the queue at ``url`` (``.../<account>/<name>``)."""
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


class AwsSample(Policy):
    """The sample's Standard workflow, beside a Breakwater stack whose payment function and queue it uses."""

    name = "aws-sample"

    def __init__(self, settings: BreakerSettings) -> None:
        super().__init__(settings)
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-aws-sample")
        self._pending: list[tuple[float, Any]] = []
        self._results: list[tuple[ExecutionResult, float]] = []
        self._stack: Stack | None = None
        self._sample: Stack | None = None

    def prepare(self, env: EmbeddedStack, run_name: str) -> None:
        self._stack = env.deploy(run_name, **self.settings.template_parameters())
        outputs = self._stack.outputs
        self._payment = outputs["PaymentFunctionArn"]
        self._sample = deploy(
            env.client("cloudformation"),
            env.client("s3"),
            f"aws-sample-{uuid.uuid4().hex[:8]}",  # short: CloudFormation names the machine after the stack
            {
                "PaymentFunctionArn": self._payment,
                "FallbackQueueUrl": self._stack.queue_url,
                "FallbackQueueArn": _queue_arn(self._stack.queue_url, env.region),
                "ServiceName": self.settings.service,
                "OpenSeconds": self.settings.cooldown_s,
            },
            region=env.region,
            template_path=TEMPLATE,
        )
        self._sfn = env.client("stepfunctions")
        self._dynamodb = env.client("dynamodb")
        self._sqs = env.client("sqs")
        self._pending, self._results = [], []
        warm(env, self._payment, self.settings.warm_environments, self.settings.service)
        self._run(WARM_UP_ORDER)

    def _input(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"serviceName": order.get("serviceName", self.settings.service), "order": order}

    def _run(self, order: dict[str, Any]) -> ExecutionResult:
        assert self._sample is not None
        arn = start(self._sfn, self._sample.outputs["StateMachineArn"], self._input(order))
        return wait(self._sfn, arn, EXECUTION_TIMEOUT, poll=POLL_SECONDS)

    def submit(self, orders: list[dict[str, Any]]) -> None:
        assert self._sample is not None
        machine = self._sample.outputs["StateMachineArn"]
        for order in orders:
            submitted = time.time()
            future = self._pool.submit(start, self._sfn, machine, self._input(order), order["orderId"])
            self._pending.append((submitted, future))

    def drain(self) -> None:
        pending, self._pending = self._pending, []
        for submitted, future in pending:
            self._results.append((wait(self._sfn, future.result(), EXECUTION_TIMEOUT, poll=POLL_SECONDS), submitted))

    def records(self) -> list[OrderRecord]:
        return [sample_record(result, submitted, self._payment) for result, submitted in self._results]

    def transitions(self) -> list[Transition]:
        """OPEN from each first trip until its item expires (a trip while open extends it), then CLOSED."""
        trips = sorted(t for result, _ in self._results for t in _trips(result))
        changes: list[Transition] = []
        open_until: float | None = None
        for at, until in trips:
            if open_until is not None and at >= open_until:
                changes.append(Transition(open_until, BreakerState.OPEN, BreakerState.CLOSED))
                open_until = None
            if open_until is None:
                changes.append(Transition(at, BreakerState.CLOSED, BreakerState.OPEN))
            open_until = max(open_until or 0.0, until)
        if open_until is not None and open_until <= time.time():
            changes.append(Transition(open_until, BreakerState.OPEN, BreakerState.CLOSED))
        return changes

    def cooldown_expiry(self) -> float | None:
        assert self._sample is not None
        answer = self._dynamodb.query(
            TableName=self._sample.outputs["TableName"],
            ConsistentRead=True,
            KeyConditionExpression="ServiceName = :s AND ExpireTimeStampMs > :now",
            ExpressionAttributeValues={":s": {"S": self.settings.service}, ":now": {"N": str(int(time.time() * 1000))}},
        )
        ends = [int(item["ExpireTimeStampMs"]["N"]) for item in answer.get("Items", [])]
        return max(ends) / 1000 if ends else None

    def queue_depth(self) -> int:
        assert self._stack is not None
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def close(self) -> None:
        self._pool.shutdown(wait=True)
