"""AWS's limits on the embedded stack: each limit answers with AWS's error, as the SDK and the workflow see it.

The buckets run on a clock the test holds still, so a drained bucket stays drained: nothing here depends on
how fast the machine is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from breakwater.executions import start, wait
from breakwater.local import compat
from breakwater.local.aws_limits import AwsLimits, Limits
from tests.eventually import eventually
from tests.workflow.helpers import breaker, order, put_breaker, queued

# No retries, so a throttle reaches the test as the SDK first sees it; no sync- host for StartSyncExecution.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1}, inject_host_prefix=False)


class StillClock:
    """Time that does not pass: a bucket drained by the test stays drained."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def no_execution_running() -> None:
    """Wait until no execution of this process's moto runs (an earlier test's would count against these limits)."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    def running() -> list[str]:
        return [
            e.execution_arn
            for account in list(stepfunctions_parser_backends.values())
            for backend in list(account.values())
            for machine in list(backend.state_machines)
            for e in list(machine.executions)
            if e.status == "RUNNING"
        ]

    eventually(running, "the executions of earlier tests to end", until=lambda arns: not arns)


@pytest.fixture
def limited(embedded) -> Iterator[Any]:
    """Install limits (quota overrides) over the session's stack for one test; the waits they impose are recorded.

    The limits are process-wide, so a test counts only its own resources (its tables, functions, machines).
    """
    no_execution_running()
    installed: list[AwsLimits] = []
    waits: list[float] = []

    def install(**overrides: float) -> AwsLimits:
        limits = AwsLimits(Limits(overrides=overrides), clock=StillClock(), sleep=waits.append)
        limits.install()
        installed.append(limits)
        return limits

    install.waits = waits  # type: ignore[attr-defined]
    yield install
    for limits in installed:
        limits.remove()


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", config=NO_RETRIES)  # type: ignore[call-overload]


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return dict(raised.value.response)


# -- DynamoDB ---------------------------------------------------------------------------------------------------


def test_a_hot_key_answers_throttling_exception_with_its_reason_and_other_keys_are_free(embedded, provider, limited):
    stack = embedded.deploy()
    limits = limited(**{"dynamodb.partition_read_units": 1})  # two eventually consistent reads of one key
    dynamodb = client("dynamodb")
    key = {"serviceName": {"S": "payment-api"}}

    dynamodb.get_item(TableName=stack.table_name, Key=key)
    dynamodb.get_item(TableName=stack.table_name, Key=key)
    with pytest.raises(ClientError) as throttled:
        dynamodb.get_item(TableName=stack.table_name, Key=key)
    dynamodb.get_item(TableName=stack.table_name, Key={"serviceName": {"S": "another"}})

    response = error_of(throttled)
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["throttlingReasons"] == [
        {
            "reason": "TableReadKeyRangeThroughputExceeded",
            "resource": embedded.client("dynamodb").describe_table(TableName=stack.table_name)["Table"]["TableArn"],
        }
    ]
    assert limits.observed.throttles == {("DynamoDB", "ThrottlingException", "TableReadKeyRangeThroughputExceeded"): 1}
    assert limits.observed.throttled_resources == {stack.table_name: 1}


def test_a_strongly_consistent_read_costs_twice_an_eventually_consistent_one(embedded, provider, limited):
    stack = embedded.deploy()
    limited(**{"dynamodb.partition_read_units": 1})
    dynamodb = client("dynamodb")
    key = {"serviceName": {"S": "payment-api"}}

    dynamodb.get_item(TableName=stack.table_name, Key=key, ConsistentRead=True)  # the whole unit
    with pytest.raises(ClientError):
        dynamodb.get_item(TableName=stack.table_name, Key=key)


def test_a_failed_conditional_write_consumes_write_units_and_the_next_write_is_throttled(embedded, provider, limited):
    stack = embedded.deploy()
    limits = limited(**{"dynamodb.partition_write_units": 2})
    dynamodb = client("dynamodb")
    refused = {
        "TableName": stack.table_name,
        "Key": {"serviceName": {"S": "payment-api"}},
        "UpdateExpression": "SET failureCount = :one",
        "ConditionExpression": "attribute_exists(failureCount)",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }

    codes = []
    for _ in range(3):
        with pytest.raises(ClientError) as failed:
            dynamodb.update_item(**refused)
        codes.append(failed.value.response["Error"]["Code"])

    assert codes == ["ConditionalCheckFailedException", "ConditionalCheckFailedException", "ThrottlingException"]
    assert limits.observed.units[(stack.table_name, json.dumps({"S": "payment-api"}), "Write")] == 2


def test_a_throttled_breaker_read_never_calls_a_provider_the_breaker_has_opened(embedded, provider, limited, clock):
    # given: the breaker OPEN, and its key's read capacity spent
    stack = embedded.deploy()
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, tripCount=1)
    limited(**{"dynamodb.partition_read_units": 0.5})
    client("dynamodb").get_item(TableName=stack.table_name, Key={"serviceName": {"S": "payment-api"}})

    # when
    result = embedded.run(stack, order())

    # then: the order waits on the queue, and the provider heard nothing
    assert result.output["status"] == "queued"
    assert result.output["reason"] == "breaker_busy"
    assert result.output["bookkeepingError"] == "DynamoDB.ThrottlingException"
    assert provider.calls == []
    assert [body["reason"] for body in queued(embedded, stack)] == ["breaker_busy"]


# -- Step Functions ------------------------------------------------------------------------------------------------


def test_start_execution_is_throttled_per_workflow_type_with_rate_exceeded(embedded, provider, limited):
    standard = embedded.deploy()
    express = embedded.deploy(WorkflowType="EXPRESS")
    limits = limited(**{"stepfunctions.standard_start_bucket": 1})
    sfn = client("stepfunctions")

    first = start(sfn, standard.state_machine_arn, order())
    with pytest.raises(ClientError) as throttled:
        start(sfn, standard.state_machine_arn, order())
    express_arn = start(sfn, express.state_machine_arn, order())  # EXPRESS draws from its own bucket

    assert throttled.value.response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert wait(sfn, first).status == wait(sfn, express_arn).status == "SUCCEEDED"
    assert limits.observed.starts == {"STANDARD": 1, "EXPRESS": 1}


def test_start_sync_execution_has_a_bucket_of_its_own(embedded, provider, limited):
    express = embedded.deploy(WorkflowType="EXPRESS")
    limited(**{"stepfunctions.sync_start_bucket": 1})
    sfn = client("stepfunctions")

    answered = sfn.start_sync_execution(stateMachineArn=express.state_machine_arn, input=json.dumps(order()))
    with pytest.raises(ClientError) as throttled:
        sfn.start_sync_execution(stateMachineArn=express.state_machine_arn, input=json.dumps(order()))

    assert answered["status"] == "SUCCEEDED"
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"


def test_standard_transitions_wait_for_their_bucket_and_express_ones_do_not(embedded, provider, limited):
    standard = embedded.deploy()
    express = embedded.deploy(WorkflowType="EXPRESS")
    limits = limited(**{"stepfunctions.standard_transition_bucket": 1, "stepfunctions.standard_transition_refill": 10})

    embedded.run(express, order())
    embedded.run(standard, order())

    # the healthy path enters three states: the first takes the only token, the next two wait 0.1 s and 0.2 s
    assert [delay for machine, delay in limits.observed.delays if machine == standard.state_machine_arn] == [
        pytest.approx(0.1),
        pytest.approx(0.2),
    ]
    assert [delay for machine, delay in limits.observed.delays if machine == express.state_machine_arn] == []
    assert limits.observed.machine_transitions[express.state_machine_arn] == 3
    assert limits.observed.machine_transitions[standard.state_machine_arn] == 3


def test_express_executions_run_as_express_only_with_the_execution_type_patch(embedded, provider, limited):
    express = embedded.deploy(WorkflowType="EXPRESS")
    limits = limited(**{"stepfunctions.standard_transition_bucket": 1, "stepfunctions.standard_transition_refill": 10})

    with compat.disabled("execution_type"):
        embedded.run(express, order())

    # moto's own answer: every execution is STANDARD, so this EXPRESS one waited for STANDARD's bucket
    assert [delay for machine, delay in limits.observed.delays if machine == express.state_machine_arn] == [
        pytest.approx(0.1),
        pytest.approx(0.2),
    ]


# -- Lambda --------------------------------------------------------------------------------------------------------


def test_past_its_reservation_a_function_is_throttled_with_lambdas_429(embedded, provider):
    stack = embedded.deploy(PaymentConcurrency=1, CallTimeoutSeconds=60)
    sfn = embedded.client("stepfunctions")
    event = json.dumps({**order(), "serviceName": "payment-api"}).encode()

    with provider.holding():
        held = start(sfn, stack.state_machine_arn, order())
        assert provider.wait_for_in_flight(1, timeout=60)
        with pytest.raises(ClientError) as throttled:
            client("lambda").invoke(FunctionName=stack.outputs["PaymentFunctionArn"], Payload=event)
    charged = wait(sfn, held, 120)

    response = throttled.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Error"]["Code"] == "TooManyRequestsException"
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert response["message"] == "Rate Exceeded."
    assert charged.output["status"] == "charged"


def test_a_full_bulkhead_queues_the_order_without_a_call_and_counts_nothing(embedded, provider):
    # given: the payment function's one reserved execution is busy with a call the provider holds
    stack = embedded.deploy(PaymentConcurrency=1, CallTimeoutSeconds=60, FailureThreshold=1)
    sfn = embedded.client("stepfunctions")

    with provider.holding():
        held = start(sfn, stack.state_machine_arn, order())
        assert provider.wait_for_in_flight(1, timeout=60)
        # when: another order comes
        refused = embedded.run(stack, order())
    charged = wait(sfn, held, 120)

    # then: it is queued for replay, nothing reached the provider for it, and the breaker counted nothing
    assert refused.output["status"] == "queued"
    assert refused.output["reason"] == "concurrency_limit"
    assert refused.path[-2:] == ["Call payment provider", "Queue order for later"]
    assert len(provider.calls) == 1
    assert charged.output["status"] == "charged"
    assert breaker(embedded, stack) == {}


def test_a_probe_the_bulkhead_refuses_frees_its_slot_and_is_queued(embedded, provider, clock):
    stack = embedded.deploy(PaymentConcurrency=1, CallTimeoutSeconds=60)
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() - 1, tripCount=1)
    sfn = embedded.client("stepfunctions")

    with provider.holding():
        held = start(sfn, stack.state_machine_arn, order(serviceName="other"))  # holds the one execution
        assert provider.wait_for_in_flight(1, timeout=60)
        probe = embedded.run(stack, order())
    wait(sfn, held, 120)

    assert probe.output["reason"] == "concurrency_limit"
    assert "Release probe slot" in probe.path
    record = breaker(embedded, stack)
    assert (record["state"], record["probesInFlight"]) == ("HALF_OPEN", 0)


def test_the_accounts_pool_throttles_functions_without_a_reservation(embedded, provider, limited):
    stack = embedded.deploy(PaymentConcurrency=0, CallTimeoutSeconds=60)
    reserved = sum(AwsLimits().lambda_.reservations().values())  # the session's other stacks reserve theirs
    limits = limited(**{"lambda.account_concurrency": reserved + 1})  # one unreserved execution
    sfn = embedded.client("stepfunctions")

    with provider.holding():
        held = start(sfn, stack.state_machine_arn, order())
        assert provider.wait_for_in_flight(1, timeout=60)
        refused = embedded.run(stack, order())
    wait(sfn, held, 120)

    assert refused.output["reason"] == "concurrency_limit"
    payment = stack.outputs["PaymentFunctionArn"].rsplit(":", 1)[-1]
    assert limits.observed.throttled_resources[payment] == 1
    assert ("Lambda", "TooManyRequestsException", "ConcurrentInvocationLimitExceeded") in limits.observed.throttles
    assert limits.observed.peak_concurrency[payment] == 1
