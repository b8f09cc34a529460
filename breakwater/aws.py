"""Clients for the local stack or real AWS, and the stack's resources from its outputs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from breakwater.errors import BreakwaterError

DEFAULT_STACK = "breakwater"
STACK_ENV = "BREAKWATER_STACK"
OUTPUT_KEYS = (
    "StateMachineArn",
    "BreakerTableName",
    "FallbackQueueUrl",
    "FallbackDeadLetterQueueUrl",
    "PaymentFunctionArn",
)


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

    def client(self, service: str) -> Any:
        session = self.session()
        region = self.region or session.region_name or "us-east-1"
        # A custom endpoint (the local stack) serves every API on one host: no "sync-" host prefix.
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, inject_host_prefix=not self.endpoint)
        return session.client(  # type: ignore[call-overload]
            service, endpoint_url=self.endpoint, region_name=region, config=config
        )


@dataclass(frozen=True)
class Resources:
    """The deployed application's resources, from the stack outputs."""

    stack_name: str
    outputs: dict[str, str]

    def __getitem__(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise StackNotFound(f"stack {self.stack_name} has no output {key}") from None

    @property
    def state_machine_arn(self) -> str:
        return self["StateMachineArn"]

    @property
    def table_name(self) -> str:
        return self["BreakerTableName"]

    @property
    def queue_url(self) -> str:
        return self["FallbackQueueUrl"]


def stack_name_from(value: str | None) -> str:
    return value or os.environ.get(STACK_ENV) or DEFAULT_STACK


def find_resources(target: Target, stack_name: str) -> Resources:
    """Read the outputs of ``stack_name``; a clear error when the stack is not there."""
    cloudformation = target.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        where = target.endpoint or "AWS"
        raise StackNotFound(f"stack {stack_name} not found at {where}: {exc.response['Error']['Message']}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return Resources(stack_name=stack_name, outputs=outputs)
