"""The embedded local stack: patched moto in this process, the fake provider, the real template."""

from __future__ import annotations

import logging
import os
import secrets
import uuid
import warnings
from types import TracebackType
from typing import Any

import boto3

from breakwater.executions import ExecutionResult, run
from breakwater.local import compat
from breakwater.local.deploy import Stack, deploy
from breakwater.local.event_source import ScheduleSource, SqsEventSource, StreamEventSource
from breakwater.local.provider import FakeProvider

REGION = "us-east-1"
# Lambda keeps moto's default backend: its invoke is replaced by the in-process
# runtime (compat.lambda_in_process). The "use_docker: False" backend would only
# echo the payload back.
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


API_KEY_SECRET_NAME = "breakwater/payment-api-key"  # noqa: S105 - a secret's name, not its value


def seed_api_key(secretsmanager: Any, provider: FakeProvider, strict: bool = True) -> str:
    """Store a random provider API key in Secrets Manager (once) and make the provider require it."""
    try:
        described = secretsmanager.describe_secret(SecretId=API_KEY_SECRET_NAME)
        arn = described["ARN"]
        key = secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
    except secretsmanager.exceptions.ResourceNotFoundException:
        key = secrets.token_urlsafe(24)
        arn = secretsmanager.create_secret(Name=API_KEY_SECRET_NAME, SecretString=key)["ARN"]
    provider.require_api_key(key, strict=strict)
    return str(arn)


def quiet_moto() -> None:
    """moto logs every caught workflow error at ERROR; the execution history already tells it."""
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Resources moto's CloudFormation cannot create (the heartbeat's EventInvokeConfig) are listed in the README.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse .* but it's not supported", category=UserWarning)


class EmbeddedStack:
    """moto (with the compatibility layer) and a fake provider, inside this process.

    Use as a context manager. Nothing leaves the process: AWS calls are
    intercepted in-process and the provider listens on 127.0.0.1.
    """

    def __init__(self, region: str = REGION, provider: FakeProvider | None = None) -> None:
        self.region = region
        self.provider = provider or FakeProvider()
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> EmbeddedStack:
        from moto import mock_aws

        for key, value in {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": self.region}.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[call-overload]
        self._mock.start()
        compat.apply()
        quiet_moto()
        self.provider.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.provider.stop()
        if self._mock is not None:
            self._mock.stop()
        for key, old in self._saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]

    def deploy(self, stack_name: str | None = None, **parameters: Any) -> Stack:
        """Deploy ``template.yaml``; the provider URL and API key secret default to the fake provider's."""
        parameters.setdefault("PaymentApiUrl", self.provider.url)
        parameters.setdefault("PaymentApiKeySecretArn", seed_api_key(self.client("secretsmanager"), self.provider))
        return deploy(
            self.client("cloudformation"),
            self.client("s3"),
            stack_name or f"breakwater-{uuid.uuid4().hex[:8]}",
            parameters,
            region=self.region,
        )

    def replay_source(self, stack: Stack) -> SqsEventSource:
        """The replay function's queue poller (the Lambda service's part, played locally)."""
        return SqsEventSource.for_function(
            self.client("lambda"), self.client("sqs"), stack.outputs["ReplayFunctionArn"]
        )

    def transitions_source(self, stack: Stack) -> StreamEventSource:
        """The transitions function's table-stream poller (the Lambda service's part, played locally)."""
        return StreamEventSource.for_function(
            self.client("lambda"), stack.outputs["TransitionsFunctionArn"], self.region, self.client("sqs")
        )

    def heartbeat_source(self, stack: Stack) -> ScheduleSource:
        """The transitions function's once-a-minute schedule (EventBridge's part, played locally)."""
        return ScheduleSource.for_function(
            self.client("events"), self.client("lambda"), stack.outputs["TransitionsFunctionArn"], self.region
        )

    def run(self, stack: Stack, order: Any, name: str | None = None, timeout: float = 60.0) -> ExecutionResult:
        return run(self.client("stepfunctions"), stack.state_machine_arn, order, name, timeout)
