"""The embedded local stack: patched moto in this process, the fake provider, the real template."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import secrets
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any

import boto3

from breakwater.aws import Stack
from breakwater.executions import ExecutionResult, InProcess, reading_in_process, run
from breakwater.local import compat
from breakwater.local import services as registry
from breakwater.local.aws_limits import AwsLimits
from breakwater.local.deploy import deploy
from breakwater.local.event_source import EventSources, ScheduleSource, SqsEventSource, StreamEventSource
from breakwater.local.http_api import HttpApiFront
from breakwater.local.jsonata import Evaluator
from breakwater.local.provider import FakeProvider
from breakwater.local.runtime import Runtime
from breakwater.local.services import LocalServices

REGION = "us-east-1"
# Lambda keeps moto's default backend: its invoke is replaced by the local
# runtime (compat.lambda_environments). The "use_docker: False" backend would only
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


def prepare_moto() -> None:
    """What both the embedded stack and ``local up`` need of moto: every patch installed, its logging quiet."""
    compat.apply()
    quiet_moto()


def deploy_application(
    client: Callable[[str], Any],
    provider: FakeProvider,
    stack_name: str,
    parameters: dict[str, Any],
    region: str,
    strict_key: bool = True,
) -> Stack:
    """Deploy ``template.yaml`` into a local stack, charging ``provider`` with a key from its Secrets Manager.

    ``PaymentApiUrl`` and ``PaymentApiKeySecretArn`` default to the fake provider's; ``strict_key`` False lets
    the provider also accept calls without the key (stacks that ``sam deploy`` creates without the secret).
    """
    defaults = {
        "PaymentApiUrl": provider.url,
        "PaymentApiKeySecretArn": seed_api_key(client("secretsmanager"), provider, strict=strict_key),
    }
    return deploy(client("cloudformation"), client("s3"), stack_name, {**defaults, **parameters}, region=region)


def quiet_moto() -> None:
    """moto logs every caught workflow error at ERROR; the execution history already tells it."""
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Resources moto's CloudFormation cannot create (the heartbeat's EventInvokeConfig): see
    # docs/security-and-operations.md.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse .* but it's not supported", category=UserWarning)


class FunctionEndpoint:
    """moto's HTTP front on an ephemeral loopback port, for the functions' own AWS calls.

    The functions run in processes of their own (``local.runtime``), so the
    in-process mock cannot intercept their SDK calls; they reach the same moto
    backends over HTTP here, as they would reach AWS from a Lambda environment.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        # The stack's HTTP APIs answer on their own hosts here too (``http_api``), as on local up's port.
        app = HttpApiFront(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, 0, app, threaded=True)
        # Stopping does not wait for open connections (a busy function's keep-alive one): its threads are daemons.
        self._server.block_on_close = False  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="function-endpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _execution(execution_arn: str) -> Any:
    """The execution object of this process's moto, or None for an ARN it does not hold."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    parts = execution_arn.split(":")
    if len(parts) < 8:
        return None
    try:
        return stepfunctions_parser_backends[parts[4]][parts[3]].describe_execution(execution_arn)
    except Exception:  # not an execution of this process: the API decides
        return None


def _api_shape(value: Any, key: str = "") -> Any:
    """An event as the API client parses it: enum values as strings, ``timestamp`` as an aware datetime."""
    if isinstance(value, dict):
        return {k: _api_shape(v, k) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_api_shape(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if key == "timestamp" and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def read_history(execution_arn: str) -> list[dict[str, Any]] | None:
    """A finished execution's history from this process's moto (None: not ours, or still running)."""
    execution = _execution(execution_arn)
    if execution is None or execution.status == "RUNNING":
        return None
    return [_api_shape(event) for event in execution.to_history_output()["events"]]


def await_execution(execution_arn: str, timeout: float) -> None:
    """Wait for an execution of this process's moto to leave RUNNING, reading its status directly.

    Returns at once for an execution this process does not hold (the caller then polls the API).
    """
    execution = _execution(execution_arn)
    if execution is None:
        return
    deadline = time.monotonic() + timeout
    delay = 0.001
    while execution.status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 1.5, 0.02)


class EmbeddedStack:
    """moto (with the compatibility layer) and a fake provider, inside this process.

    Use as a context manager. Nothing leaves the machine: AWS calls are
    intercepted in-process, the functions run in processes of their own and
    reach the same moto over loopback HTTP, and the provider listens on 127.0.0.1.
    """

    def __init__(
        self, region: str = REGION, provider: FakeProvider | None = None, aws_limits: AwsLimits | None = None
    ) -> None:
        self.region = region
        self.provider = provider or FakeProvider()
        self.aws_limits = aws_limits  # AWS's throughput and concurrency limits, metered while the stack runs
        self._mock: Any = None
        self._endpoint: FunctionEndpoint | None = None
        self._clients: dict[str, Any] = {}
        # Its Lambda runtime, JSONata evaluator and functions' endpoint: moto's patched classes find them
        # (breakwater.local.services) while the stack is open.
        self.services = LocalServices()
        self._clients_lock = threading.Lock()
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> EmbeddedStack:
        from moto import mock_aws

        for key, value in {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": self.region}.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[call-overload]
        self._mock.start()
        prepare_moto()
        if self.aws_limits is not None:
            self.aws_limits.install()
        self._endpoint = FunctionEndpoint()
        self.services.function_endpoint = self._endpoint.url
        registry.enter(self.services)
        self.provider.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The environments first: their keep-alive connections to the provider and to moto would otherwise hold
        # the servers' request threads until the runtime's reaper ended them (a minute).
        self.runtime.shutdown()
        self.provider.stop()
        registry.leave(self.services)
        if self._endpoint is not None:
            self._endpoint.stop()
        if self.aws_limits is not None:
            self.aws_limits.remove()
        if self._mock is not None:
            self._mock.stop()
        for key, old in self._saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old

    def client(self, service: str) -> Any:
        """A client of this stack (one per service, shared: boto3 clients are thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                client = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
                if service == "stepfunctions":
                    client = reading_in_process(client, InProcess(history=read_history, wait=await_execution))
                self._clients[service] = client
            return self._clients[service]

    @property
    def runtime(self) -> Runtime:
        """The stack's Lambda runtime: its functions' execution environments."""
        return self.services.runtime

    @property
    def jsonata(self) -> Evaluator:
        """The stack's JSONata evaluator (``stack.jsonata.recording()`` captures its evaluations)."""
        return self.services.jsonata

    def deploy(self, stack_name: str | None = None, **parameters: Any) -> Stack:
        """Deploy ``template.yaml``; the provider URL and API key secret default to the fake provider's."""
        name = stack_name or f"breakwater-{uuid.uuid4().hex[:8]}"
        return deploy_application(self.client, self.provider, name, parameters, self.region)

    def replay_source(self, stack: Stack) -> SqsEventSource:
        """The replay function's queue poller (the Lambda service's part, played locally)."""
        return EventSources.replay_of(self.client, stack.outputs)

    def transitions_source(self, stack: Stack) -> StreamEventSource:
        """The transitions function's table-stream poller (the Lambda service's part, played locally)."""
        return EventSources.transitions_of(self.client, stack.outputs, self.region)

    def heartbeat_source(self, stack: Stack) -> ScheduleSource:
        """The transitions function's once-a-minute schedule (EventBridge's part, played locally)."""
        return EventSources.heartbeat_of(self.client, stack.outputs, self.region)

    def run(self, stack: Stack, order: Any, name: str | None = None, timeout: float = 60.0) -> ExecutionResult:
        return run(self.client("stepfunctions"), stack.state_machine_arn, order, name, timeout)
