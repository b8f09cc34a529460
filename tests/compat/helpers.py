"""What the compatibility patches' tests share: a state machine of a definition of its own, a table, a queue, an
execution held at its payment call."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from breakwater.aws import Stack
from breakwater.executions import start, unique_name
from breakwater.local.stack import EmbeddedStack
from tests.eventually import eventually
from tests.workflow.helpers import order

ROLE = "arn:aws:iam::123456789012:role/breakwater-test"


def machine(embedded: Any, definition: dict[str, Any]) -> str:
    # A definition of its own each time: a parse made with a patch disabled is not shared with one made with it.
    definition = {**definition, "Comment": unique_name("c")}
    sfn = embedded.client("stepfunctions")
    return sfn.create_state_machine(name=unique_name("m"), definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]


def events_of(result: Any, kind: str) -> list[dict[str, Any]]:
    return [event for event in result.events if event["type"] == kind]


def table(embedded: Any) -> str:
    name = unique_name("t").replace(":", "_")
    embedded.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def one_task(resource: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": resource, "Arguments": arguments, "End": True}},
    }


PUT_ITEM = one_task(
    "arn:aws:states:::dynamodb:putItem",
    {"TableName": "{% $states.input.TableName %}", "Item": "{% $states.input.Item %}"},
)


SDK_CAUSE = r" \(Service: {service}; Status Code: {status}; Error Code: {code}; Request ID: [^;]+; Proxy: null\)"


SEND_MESSAGE = one_task(
    "arn:aws:states:::sqs:sendMessage",
    {"QueueUrl": "{% $states.input.QueueUrl %}", "MessageBody": "{% $states.input.MessageBody %}"},
)


def queue(embedded: Any) -> str:
    return str(embedded.client("sqs").create_queue(QueueName=unique_name("q").replace(":", "-"))["QueueUrl"])


PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def refused(embedded: Any, **request: Any) -> dict[str, str]:
    sfn = embedded.client("stepfunctions")
    with pytest.raises(ClientError) as error:
        sfn.start_execution(stateMachineArn=machine(embedded, PASS), **request)
    return dict(error.value.response["Error"])


JSONATA = {
    "QueryLanguage": "JSONata",
    "StartAt": "Shape",
    "States": {"Shape": {"Type": "Pass", "Output": "{% {'total': $states.input.a + $states.input.b} %}", "End": True}},
}


def change_set_deploy(embedded: Any, stack_name: str, kind: str, **parameters: str) -> dict[str, Any]:
    """What `sam deploy` does: a change set of the packaged template (SAM transform left to the service)."""
    from breakwater.local.deploy import CAPABILITIES, package
    from breakwater.local.stack import seed_api_key
    from breakwater.template import load_template

    cfn = embedded.client("cloudformation")
    name = unique_name("cs")
    parameters.setdefault("PaymentApiKeySecretArn", seed_api_key(embedded.client("secretsmanager"), embedded.provider))
    cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=json.dumps(package(load_template(), embedded.client("s3"))),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=CAPABILITIES,
    )
    cfn.execute_change_set(ChangeSetName=name, StackName=stack_name)
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def sync_client(embedded: Any) -> Any:
    import boto3
    from botocore.config import Config

    # The in-process mock answers only hosts it knows: no "sync-" host prefix (local up serves one endpoint too).
    return boto3.client("stepfunctions", region_name=embedded.region, config=Config(inject_host_prefix=False))


def held_execution(embedded: EmbeddedStack, stack: Stack) -> str:
    """An execution whose payment call the provider holds (call inside ``provider.holding()``)."""
    arn = start(embedded.client("stepfunctions"), stack.state_machine_arn, order())
    eventually(embedded.provider.in_flight, "the payment call held by the provider", until=lambda calls: calls == 1)
    return arn


def stopped_execution(embedded: EmbeddedStack, stack: Stack, **stop: str) -> str:
    """An execution stopped (with ``stop``'s error and cause) while its payment call was held, once it is idle."""
    with embedded.provider.holding(limit_seconds=20):
        arn = held_execution(embedded, stack)
        embedded.client("stepfunctions").stop_execution(executionArn=arn, **stop)
    embedded.runtime.wait_idle(timeout=60)
    return arn
