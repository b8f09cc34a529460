"""Clients for the local stack or real AWS, and the application's CloudFormation stack (parameters, outputs)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from breakwater.errors import BreakwaterError

DEFAULT_STACK = "breakwater"
STACK_ENV = "BREAKWATER_STACK"


class StackNotFound(BreakwaterError):
    """The stack does not exist (or lacks an output) at the endpoint in use."""


@dataclass(frozen=True)
class Target:
    """Where to talk to: standard boto3 configuration plus an optional endpoint."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(profile_name=self.profile, region_name=self.region)

    @property
    def endpoint(self) -> str | None:
        """The explicit endpoint, else ``AWS_ENDPOINT_URL`` (which boto3 also honours)."""
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None

    def client(self, service: str, host_prefix: bool | None = None) -> Any:
        """A client of ``service``; ``host_prefix`` (default: only without an endpoint) sends StartSyncExecution to
        its ``sync-`` host, as AWS wants. The local stack serves every API on one host, the embedded one too."""
        session = self.session()
        region = self.region or session.region_name or "us-east-1"
        prefix = not self.endpoint if host_prefix is None else host_prefix
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, inject_host_prefix=prefix)
        return session.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint, region_name=region, config=config
        )


@dataclass(frozen=True)
class Stack:
    """A CloudFormation stack of the application (local or on AWS): its name, parameter values and outputs.

    Not to be confused with the *local stack* (:class:`breakwater.local.stack.EmbeddedStack`, ``local up``):
    the emulated AWS that such a stack may be deployed into.
    """

    name: str
    parameters: dict[str, str]
    outputs: dict[str, str]

    def __getitem__(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise StackNotFound(f"stack {self.name} has no output {key}") from None

    @property
    def state_machine_arn(self) -> str:
        return self["StateMachineArn"]

    @property
    def table_name(self) -> str:
        return self["BreakerTableName"]

    @property
    def queue_url(self) -> str:
        return self["FallbackQueueUrl"]

    @property
    def dead_letter_queue_url(self) -> str:
        return self["FallbackDeadLetterQueueUrl"]

    @property
    def orders_table(self) -> str:
        return self["OrdersTableName"]

    @classmethod
    def from_description(cls, description: Any) -> Stack:
        """From a DescribeStacks answer's stack."""
        return cls(
            name=description["StackName"],
            parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in description.get("Parameters", [])},
            outputs={o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])},
        )


def aws_failure(exc: Exception, endpoint: str | None = None) -> str:
    """One line for a failed AWS call: the service's error code and message, or, when what answered is not an
    AWS endpoint (a web page, another server, moto's crash page), what answered and the likely reason."""
    where = endpoint or "AWS"
    hint = (
        f" Is {endpoint} an AWS endpoint? `breakwater local up` prints its own (http://127.0.0.1:4566 by default)."
        if endpoint
        else ""
    )
    if isinstance(exc, ClientError):
        details = exc.response.get("Error", {})
        code, message = details.get("Code"), details.get("Message")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code and not str(code).isdigit():
            return f"{code}: {message}" if message else str(code)
        return f"{where} answered HTTP {status or code} to {exc.operation_name}, not an AWS error.{hint}"
    if isinstance(exc, ResponseParserError):
        return f"{where} answered with something that is not an AWS response.{hint}"
    return " ".join(str(exc).split())


def stack_name_from(value: str | None) -> str:
    return value or os.environ.get(STACK_ENV) or DEFAULT_STACK


def find_stack(target: Target, stack_name: str) -> Stack:
    """Read ``stack_name``'s parameters and outputs; a clear error when the stack is not there."""
    cloudformation = target.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        where = target.endpoint or "AWS"
        raise StackNotFound(f"stack {stack_name} not found at {where}: {exc.response['Error']['Message']}") from None
    status = str(stacks[0].get("StackStatus", ""))
    if status.startswith("CREATE_") and status != "CREATE_COMPLETE":
        where = target.endpoint or "AWS"
        raise StackNotFound(f"stack {stack_name} at {where} is {status}: it has no outputs until it is created")
    return Stack.from_description(stacks[0])


def stack_service_name(target: Target, stack_name: str) -> str | None:
    """The stack's ``ServiceName`` parameter: the breaker its executions use when the order names none."""
    try:
        return find_stack(target, stack_name).parameters.get("ServiceName")
    except StackNotFound:
        return None
