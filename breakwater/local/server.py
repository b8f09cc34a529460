"""``breakwater local up``: the local stack served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from breakwater.aws import Target
from breakwater.local import compat
from breakwater.local.deploy import Stack, deploy
from breakwater.local.event_source import ScheduleSource, SqsEventSource, StreamEventSource
from breakwater.local.provider import FakeProvider
from breakwater.local.stack import FAKE_CREDENTIALS, REGION, quiet_moto, seed_api_key

DEFAULT_PORT = 4566
POLL_SECONDS = 1.0
_LOG = logging.getLogger(__name__)
HOST = "127.0.0.1"


@dataclass
class LocalServer:
    """moto's server (patched) plus the fake provider, with ``template.yaml`` deployed."""

    port: int = DEFAULT_PORT
    provider_port: int = 0
    stack_name: str = "breakwater"
    parameters: dict[str, Any] = field(default_factory=dict)
    region: str = REGION
    replay: bool = True
    provider: FakeProvider = field(default_factory=FakeProvider)
    stack: Stack | None = None
    _server: Any = None
    _poller: threading.Thread | None = None
    parameters_used: dict[str, Any] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> Stack:
        from moto.server import ThreadedMotoServer

        # The interpreter calls DynamoDB, SQS and Lambda at localhost:$MOTO_PORT: this server.
        os.environ["MOTO_PORT"] = str(self.port)
        for key, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(key, value)
        compat.apply()
        quiet_moto()
        self._server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
        self._server.start()
        self._configure_moto({"stepfunctions": {"execute_state_machine": True}})
        self.provider.start(self.provider_port)
        target = Target(endpoint_url=self.endpoint, region=self.region)
        parameters = {
            "PaymentApiUrl": self.provider.url,
            # Lenient: stacks that `sam deploy --config-env local` creates without the secret still work.
            "PaymentApiKeySecretArn": seed_api_key(target.client("secretsmanager"), self.provider, strict=False),
            **self.parameters,
        }
        self.parameters_used = parameters
        self.stack = deploy(
            target.client("cloudformation"), target.client("s3"), self.stack_name, parameters, region=self.region
        )
        self._start_pollers(target)
        return self.stack

    def _start_pollers(self, target: Target) -> None:
        """Play the Lambda service's event source mappings (the replay queue, the table stream) and the
        EventBridge schedule of the transitions function's heartbeat."""
        assert self.stack is not None
        lam, sqs = target.client("lambda"), target.client("sqs")
        transitions = self.stack.outputs["TransitionsFunctionArn"]
        sources: list[Any] = [StreamEventSource.for_function(lam, transitions, self.region, sqs)]
        try:
            sources.append(ScheduleSource.for_function(target.client("events"), lam, transitions, self.region))
        except (LookupError, ValueError) as exc:  # a template without the heartbeat still serves
            _LOG.warning("no heartbeat schedule: %s", exc)
        if self.replay:
            sources.append(SqsEventSource.for_function(lam, sqs, self.stack.outputs["ReplayFunctionArn"]))

        def loop() -> None:
            while not self._stopping.wait(POLL_SECONDS):
                for source in sources:
                    try:
                        source.poll_once()
                    except Exception:  # keep polling, as the service does; the function's errors are its own
                        _LOG.exception("event source poll failed")

        self._poller = threading.Thread(target=loop, name="event-sources", daemon=True)
        self._poller.start()

    def _configure_moto(self, config: dict[str, Any]) -> None:
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.endpoint}/moto-api/config",
            data=json.dumps(config).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own loopback server
            response.read()

    def environment(self) -> dict[str, str]:
        """What a shell needs to point the AWS CLI, boto3 and breakwater at this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "AWS_DEFAULT_REGION": self.region,
            "BREAKWATER_STACK": self.stack_name,
        }

    def stop(self) -> None:
        self._stopping.set()
        if self._poller is not None:
            self._poller.join(5)
        self.provider.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
