"""Helpers for driving the real workflow on the embedded stack."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from breakwater.aws import Stack
from breakwater.executions import ExecutionResult, start, unique_name, wait
from breakwater.local.stack import EmbeddedStack

_ids = itertools.count(1)
DEFAULT_SERVICE = "payment-api"
# A call timeout for tests of behaviour whose calls must never time out: on a busy machine a cold payment function
# alone can take over a second to start, so a 1 s timeout (the bench's, for timing) fails a healthy call, which is
# then queued while the provider charged it. Far past any start or call time here; no test waits for it.
ROOMY_CALL_TIMEOUT_S = 30


def order(**fields: Any) -> dict[str, Any]:
    """A valid order with a unique orderId; keyword arguments override fields."""
    base = {"orderId": f"ord-{next(_ids):05d}", "amount": 1999, "currency": "USD", "customerId": "cus_123"}
    base.update(fields)
    return base


def breaker(env: EmbeddedStack, stack: Stack, service: str = DEFAULT_SERVICE) -> dict[str, Any]:
    """The breaker record as plain values ({} when the item does not exist)."""
    item = (
        env.client("dynamodb")
        .get_item(TableName=stack.table_name, Key={"serviceName": {"S": service}}, ConsistentRead=True)
        .get("Item", {})
    )
    return {k: (int(v["N"]) if "N" in v else v["S"]) for k, v in item.items()}


def put_breaker(env: EmbeddedStack, stack: Stack, service: str = DEFAULT_SERVICE, **attributes: Any) -> None:
    """Write a breaker record directly (as an operator or an earlier execution would have)."""
    item: dict[str, Any] = {"serviceName": {"S": service}}
    for key, value in attributes.items():
        item[key] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
    env.client("dynamodb").put_item(TableName=stack.table_name, Item=item)


# Past the first retry delay of any call_failed order (functions/replay/app.py: 15 to 30 s, jittered).
FIRST_RETRY_DUE = 31
HOUR = 3600  # seconds
HOUR_MS = HOUR * 1000


def close_long_ago(env: EmbeddedStack, stack: Stack, clock: Any) -> None:
    """A CLOSED breaker that last moved an hour ago: replay is not held back by a ramp or a window."""
    put_breaker(
        env,
        stack,
        state="CLOSED",
        failureCount=0,
        windowStartMs=0,
        tripCount=0,
        lastTransitionMs=clock.now_ms() - HOUR_MS,
        version=3,
    )


def replay_event_of_a_failed_order(env: EmbeddedStack, stack: Stack, provider: Any, clock: Any, order_id: str) -> Any:
    """The replay function's SQS event for ``order_id``, failed in an outage, now due for its replay: the provider
    is back, the breaker closed long ago and the first retry delay has passed."""
    provider.configure(mode="down")
    env.run(stack, order(orderId=order_id))
    provider.configure(mode="healthy")
    close_long_ago(env, stack, clock)
    clock.advance(FIRST_RETRY_DUE)
    message = env.client("sqs").receive_message(QueueUrl=stack.queue_url, AttributeNames=["All"])["Messages"][0]
    return env.replay_source(stack).event([message])


def queued(env: EmbeddedStack, stack: Stack, url: str | None = None) -> list[dict[str, Any]]:
    """Every message on the fallback queue (received and left invisible)."""
    sqs = env.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url or stack.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(json.loads(m["Body"]) for m in messages)


def run_many(env: EmbeddedStack, stack: Stack, orders: list[Any], timeout: float = 120.0) -> list[ExecutionResult]:
    """Start every order at once (all executions run concurrently), then wait for all."""
    sfn = env.client("stepfunctions")
    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        arns = list(pool.map(lambda o: start(sfn, stack.state_machine_arn, o), orders))
    return [wait(sfn, arn, timeout) for arn in arns]


def entered(result: ExecutionResult, state: str) -> bool:
    return state in result.path


def succeeded_task(result: ExecutionResult, state: str) -> bool:
    """True when ``state`` ran and its task succeeded (e.g. a conditional write that won)."""
    return result.task_succeeded(state)


def python_function(env: EmbeddedStack, handler_source: str, timeout: int = 3) -> str:
    """A Lambda function of its own (``handler.handler`` from ``handler_source``) with a role; its ARN."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("handler.py", handler_source)
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = env.client("iam").create_role(
        RoleName=unique_name("r").replace(":", "-"), AssumeRolePolicyDocument=json.dumps(trust)
    )
    created = env.client("lambda").create_function(
        FunctionName=unique_name("f").replace(":", "-"),
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
        Timeout=timeout,
    )
    return str(created["FunctionArn"])
