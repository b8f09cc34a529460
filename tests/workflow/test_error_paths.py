"""The workflow's own error paths as AWS answers them: a lost conditional write, each service throttling, a Lambda
that outlives its Task's timeout, and what ``$states.errorOutput`` holds for each.

Expected values are AWS's: the services' answers recorded against AWS (tests/parity/service_answers.json), the
way Step Functions hands them to a Task (recorded: an SDK exception's class as the error, its message as the cause,
tests/parity/recordings/dynamodb_errors.json and lambda_service_errors.json), and the timeout's events and error
output (recorded: timeouts.json, lambda_service_errors.json ``test_invoke_timeout``). What is inferred rather
than recorded is said so here and in docs/local-parity.md.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import ConditionalCheckFailed
from moto.dynamodb.models import DynamoDBBackend
from moto.sqs.models import SQSBackend

from breakwater.executions import run, unique_name
from tests.workflow.helpers import order, put_breaker, python_function, queued

ANSWERS = json.loads((Path(__file__).parents[1] / "parity" / "service_answers.json").read_text())["answers"]
# The SDK's cause, as recorded: "<message> (Service: <client>; Status Code: <n>; Error Code: <code>; Request ID:
# <id>; Proxy: null)".
SDK_CAUSE = re.compile(
    r"(?P<message>.*) \(Service: (?P<service>\w+); Status Code: (?P<status>\d+); Error Code: (?P<code>[\w.]+); "
    r"Request ID: [^;]*; Proxy: null\)"
)
ROLE = "arn:aws:iam::123456789012:role/breakwater-test"


def failures(result: Any, state: str) -> list[dict[str, Any]]:
    """The ``TaskFailed`` details of ``state``'s calls (retries included), in order."""
    found, current = [], None
    for event in result.events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            current = entered["name"]
        if event["type"] == "TaskFailed" and current == state:
            found.append(event["taskFailedEventDetails"])
    return found


def sdk_cause(cause: str) -> dict[str, str]:
    matched = SDK_CAUSE.fullmatch(cause)
    assert matched, cause
    return matched.groupdict()


@pytest.fixture
def stack(embedded, provider):
    return embedded.deploy(FailureThreshold=5)


@pytest.fixture
def no_retry_waits(monkeypatch):
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    monkeypatch.setattr(retrier_decl, "time", type("Clock", (), {"sleep": staticmethod(lambda seconds: None)}))


def machine(embedded: Any, definition: dict[str, Any]) -> str:
    sfn = embedded.client("stepfunctions")
    return str(
        sfn.create_state_machine(name=unique_name("m"), definition=json.dumps(definition), roleArn=ROLE)[
            "stateMachineArn"
        ]
    )


# -- the conditional-check failure --------------------------------------------------------------------------------


def test_a_lost_conditional_write_reaches_the_task_as_aws_names_it(embedded):
    recorded = ANSWERS["dynamodb_conditional_check_failed"]
    dynamodb = embedded.client("dynamodb")
    table = unique_name("t").replace(":", "-")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "serviceName", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "serviceName", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"serviceName": {"S": "svc"}, "state": {"S": "OPEN"}})
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Write",
        "States": {
            "Write": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Arguments": {
                    "TableName": table,
                    "Key": {"serviceName": {"S": "svc"}},
                    "UpdateExpression": "SET failureCount = :one",
                    "ConditionExpression": "#state = :closed",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":closed": {"S": "CLOSED"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
                "Catch": [
                    {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "Output": "{% $states.errorOutput %}"}
                    | {"Next": "Lost"}
                ],
                "End": True,
            },
            "Lost": {"Type": "Succeed"},
        },
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    (failed,) = failures(result, "Write")
    assert failed["error"] == "DynamoDB.ConditionalCheckFailedException"
    assert sdk_cause(failed["cause"]) | {"status": int(sdk_cause(failed["cause"])["status"])} == {
        "message": recorded["error"]["Message"],
        "service": "AmazonDynamoDBv2",
        "status": recorded["status"],
        "code": recorded["error"]["Code"],
    }
    # $states.errorOutput is the error and the cause only: the item DynamoDB returns with the refusal
    # (ReturnValuesOnConditionCheckFailure) is not in the SDK's message, so a workflow cannot read it (inferred).
    assert result.output == {"Error": failed["error"], "Cause": failed["cause"]}


def test_the_workflow_takes_a_lost_write_as_another_executions_win(embedded, stack, provider, clock):
    put_breaker(embedded, stack, state="CLOSED", failureCount=1, windowStartMs=clock.now_ms())

    with mock.patch.object(DynamoDBBackend, "update_item", side_effect=ConditionalCheckFailed()):
        result = embedded.run(stack, order())

    (failed,) = failures(result, "Clear the failure count")  # not retried
    assert failed["error"] == "DynamoDB.ConditionalCheckFailedException"
    assert sdk_cause(failed["cause"])["message"] == ANSWERS["dynamodb_conditional_check_failed"]["error"]["Message"]
    assert result.output["status"] == "charged"
    assert "bookkeepingError" not in result.output


# -- throttling, service by service ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [  # DynamoDB's code -> the SDK's class (declared by DynamoDB's model; the name AWS gives the Task's error)
        ("ProvisionedThroughputExceededException", "DynamoDB.ProvisionedThroughputExceededException"),
        ("ThrottlingException", "DynamoDB.ThrottlingException"),
        ("RequestLimitExceeded", "DynamoDB.RequestLimitExceededException"),
    ],
)
def test_a_throttled_dynamodb_call_reaches_the_task_with_the_sdks_class(embedded, stack, provider, code, error):
    message = "Throughput exceeds the current capacity of your table or index."
    with mock.patch.object(DynamoDBBackend, "get_item", side_effect=JsonRESTError(code, message)):
        result = embedded.run(stack, order())

    (failed,) = failures(result, "Read breaker state")
    assert failed["error"] == error
    assert sdk_cause(failed["cause"]) == {
        "message": message,
        "service": "AmazonDynamoDBv2",
        "status": "400",
        "code": code,
    }
    assert result.output["bookkeepingError"] == error  # $states.errorOutput.Error, as the Catch assigns it


def test_a_throttled_lambda_reaches_the_task_as_aws_answered_it(embedded, stack, provider):
    recorded = ANSWERS["lambda_reserved_concurrency_throttle"]
    embedded.client("lambda").put_function_concurrency(
        FunctionName=stack.outputs["PaymentFunctionArn"], ReservedConcurrentExecutions=0
    )

    result = embedded.run(stack, order())

    (failed,) = failures(result, "Call payment provider")  # not retried: the bulkhead is full
    assert failed["error"] == f"Lambda.{recorded['error']['Code']}"
    assert sdk_cause(failed["cause"]) == {
        "message": recorded["error"]["Message"],
        "service": "AWSLambda",
        "status": str(recorded["status"]),
        "code": recorded["error"]["Code"],
    }
    assert (result.output["status"], result.output["reason"]) == ("queued", "concurrency_limit")
    assert provider.calls == []


SQS_THROTTLED = "SQS.RequestThrottledException"  # the SDK's class for SQS's RequestThrottled (inferred)


def test_a_throttled_queue_reaches_the_task_with_the_sdks_class(embedded, stack, provider, no_retry_waits):
    provider.configure(mode="down")
    with mock.patch.object(SQSBackend, "send_message", side_effect=JsonRESTError("RequestThrottled", "Rate exceeded")):
        result = embedded.run(stack, order())

    throttled = failures(result, "Queue order for later")
    assert throttled[0]["error"] == SQS_THROTTLED
    assert sdk_cause(throttled[0]["cause"])["service"] == "AmazonSQS"
    assert result.error == "FallbackUnavailable"


def test_a_throttled_queue_is_retried(embedded, stack, provider, no_retry_waits):
    provider.configure(mode="down")
    with mock.patch.object(SQSBackend, "send_message", side_effect=JsonRESTError("RequestThrottled", "Rate exceeded")):
        result = embedded.run(stack, order())

    assert len(failures(result, "Queue order for later")) > 1


# -- the timeout of a running Lambda -------------------------------------------------------------------------------


def sleeping_function(embedded: Any, seconds: float) -> str:
    source = f"import time\n\ndef handler(event, context):\n    time.sleep({seconds})\n    return event\n"
    return python_function(embedded, source, timeout=30)


def test_a_lambda_past_its_tasks_timeout_times_the_task_out_and_runs_on(embedded, provider):
    arn = sleeping_function(embedded, 3)
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": arn, "Payload": {}},
                "TimeoutSeconds": 1,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})
    running_after = embedded.runtime.busy()

    # AWS: recorded 2024-03-10 (timeouts.json) and 2024-11-28 (lambda_service_errors.json, test_invoke_timeout)
    (timed_out,) = [e["taskTimedOutEventDetails"] for e in result.events if e["type"] == "TaskTimedOut"]
    assert timed_out == {"resourceType": "lambda", "resource": "invoke", "error": "States.Timeout"}  # no cause
    assert result.output == {"Error": "States.Timeout", "Cause": ""}
    assert running_after >= 1  # the function runs on, as on AWS, to its end or its own timeout
    started = time.monotonic()
    assert embedded.runtime.wait_idle(timeout=30)
    assert time.monotonic() - started < 30


# -- $states.errorOutput of the payment function's own errors --------------------------------------------------------


def test_a_declined_payment_carries_the_functions_error_as_its_cause(embedded, stack, provider):
    result = embedded.run(stack, order(customerId="cus_card_declined"))  # a customer the provider declines

    (failed,) = failures(result, "Call payment provider")
    cause = json.loads(failed["cause"])  # the function's error payload, as written (recorded format)
    assert failed["error"] == cause["errorType"] == "PaymentDeclined"
    assert set(cause) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert result.output == {
        "status": "declined",
        "orderId": result.output["orderId"],
        "serviceName": "payment-api",
        "reason": cause["errorMessage"],  # $parse($states.errorOutput.Cause).errorMessage
    }
    assert queued(embedded, stack) == []
