"""``breakwater local up``: the local stack served over HTTP on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import socket
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

from breakwater.aws import Stack, Target
from breakwater.errors import BreakwaterError
from breakwater.executions import outcome_of
from breakwater.local import services as registry
from breakwater.local.aws_limits import AwsLimits
from breakwater.local.endpoint_guard import EndpointGuard
from breakwater.local.event_source import PollResult
from breakwater.local.event_sources import AccountEventSources
from breakwater.local.http_api import HttpApiFront
from breakwater.local.provider import FakeProvider
from breakwater.local.region_check import RegionCheck
from breakwater.local.runtime import Runtime
from breakwater.local.services import LocalServices
from breakwater.local.stack import FAKE_CREDENTIALS, REGION, deploy_application, prepare_moto

DEFAULT_PORT = 4566
DEFAULT_PROVIDER_PORT = 4567
POLL_SECONDS = 1.0
ACTIVITY_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0
"""What stopping waits, in all, for the pollers' jobs under way and the server's loop (then it leaves them: daemons)."""
HOST = "127.0.0.1"
LISTEN_BACKLOG = 256  # dozens of executions call back into the server at once
_LOG = logging.getLogger(__name__)

Activity = Callable[[str], None]
WsgiApp = Callable[..., Any]


class PortInUse(BreakwaterError):
    """A port the local stack must listen on is taken (or cannot be bound)."""


def listening_socket(port: int, what: str) -> socket.socket:
    """Bind and listen on HOST:port now, so a busy port fails at once with a one-line error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        raise PortInUse(f"{what} port {port} on {HOST} {reason}; choose another with {option_for(what)}") from None
    return sock


def option_for(what: str) -> str:
    return "--provider-port" if what == "fake provider" else "--port"


def activity_line(description: dict[str, Any]) -> str:
    """One line for a finished execution: name, outcome, duration (what ``local up`` prints)."""
    status = description["status"]
    try:
        output = json.loads(description.get("output") or "null")
    except json.JSONDecodeError:
        output = None
    found = outcome_of(status, output, description.get("error"))
    outcome = status
    if status == "SUCCEEDED" and found.kind != "other":
        detail = f" ({found.reason})" if found.reason else f" (breaker {found.breaker})" if found.breaker else ""
        outcome = found.kind + detail
    elif found.error:
        outcome = f"{status} {found.error}"
    start, stop = description.get("startDate"), description.get("stopDate")
    took = f"{(stop - start).total_seconds() * 1000:.0f} ms" if isinstance(start, dt.datetime) and stop else "-"
    return f"execution {description.get('name', '?')}: {outcome}, {took}"


def replay_line(result: PollResult, function: str | None = None) -> str:
    """One line for a batch a queue's poller handed to its function (the replay function, in this stack)."""
    batch = f"replay batch ({function})" if function else "replay batch"
    line = f"{batch}: {result.received} received, {result.deleted} done, {len(result.failed)} back on the queue"
    if result.function_error:
        line += f" (function error {result.function_error})"
    return line


@dataclass
class ExecutionWatcher:
    """Report each execution once it has finished; one ListExecutions per state machine per poll."""

    sfn: Any
    report: Activity
    reported: set[str] = field(default_factory=set)

    def poll_once(self) -> int:
        count = 0
        machines = (
            m for page in self.sfn.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]
        )
        for machine in machines:
            executions = self.sfn.list_executions(stateMachineArn=machine["stateMachineArn"], maxResults=100)
            for execution in reversed(executions.get("executions", [])):  # oldest first
                arn = execution["executionArn"]
                if arn in self.reported or execution["status"] == "RUNNING":
                    continue
                self.reported.add(arn)
                self.report(activity_line(self.sfn.describe_execution(executionArn=arn)))
                count += 1
        return count


@dataclass
class LocalServer:
    """moto's server (patched) plus the fake provider, with ``template.yaml`` deployed."""

    port: int = DEFAULT_PORT
    provider_port: int = 0
    stack_name: str = "breakwater"
    parameters: dict[str, Any] = field(default_factory=dict)
    region: str = REGION
    replay: bool = True
    lambda_endpoint: str | None = None
    """Send every Lambda invoke to this endpoint (e.g. ``sam local start-lambda``); None runs them here."""
    on_activity: Activity | None = None
    """Called with one line per finished execution and per replay batch; None reports nothing."""
    aws_limits: AwsLimits | None = None
    """AWS's throughput and concurrency limits, enforced while the server runs (``--aws-limits``); None: off."""
    allowed_hosts: frozenset[str] = frozenset()
    """Host names the endpoint answers besides the loopback ones (``--allow-host``)."""
    provider: FakeProvider = field(default_factory=FakeProvider)
    stack: Stack | None = None
    _server: BaseWSGIServer | None = None
    _threads: list[threading.Thread] = field(default_factory=list)  # the pollers
    _stopping: threading.Event = field(default_factory=threading.Event)
    _mounts: dict[str, WsgiApp] = field(default_factory=dict)
    event_sources: AccountEventSources | None = None
    services: LocalServices = field(default_factory=LocalServices)
    """Its Lambda runtime (made by :meth:`start`, routed to ``lambda_endpoint`` if given) and JSONata evaluator."""

    @property
    def runtime(self) -> Runtime:
        return self.services.runtime

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def mount(self, prefix: str, app: WsgiApp) -> str:
        """Serve the WSGI ``app`` under ``prefix`` (e.g. ``/console``); everything else goes to moto.

        As WSGI mounting does, the app sees ``SCRIPT_NAME`` = the prefix and ``PATH_INFO`` = the rest.
        Returns the URL of the mounted app. Works before or after :meth:`start`.
        """
        if not prefix.startswith("/") or prefix == "/" or prefix.endswith("/"):
            raise ValueError(f"mount prefix {prefix!r}: must start with / and not end with one, e.g. /console")
        self._mounts[prefix] = app
        return self.endpoint + prefix

    def wsgi_app(self, aws: WsgiApp) -> WsgiApp:
        """What the port serves: the mounted apps under their prefixes, the stack's HTTP APIs on their hosts
        (``http_api``), ``aws`` (moto) for the rest, each request checked first by the :class:`EndpointGuard`
        (only this machine's tools and the console get in: an API answers on ``<apiId>.execute-api.localhost``,
        and on its AWS host only if ``--allow-host`` names it)."""
        dispatcher = DispatcherMiddleware(HttpApiFront(aws))
        dispatcher.mounts = self._mounts  # the same dict: a mount made later is served too
        return EndpointGuard(RegionCheck(dispatcher), allowed_hosts=self.allowed_hosts, own_paths=self._mounts)

    def start(self) -> Stack:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        # Both ports are bound first: a busy one fails before anything else happens.
        aws_socket = listening_socket(self.port, "AWS endpoint")
        try:
            provider_socket = listening_socket(self.provider_port, "fake provider")
        except PortInUse:
            aws_socket.close()
            raise
        provider_socket.close()  # the provider binds it itself, a moment later (SO_REUSEADDR)
        # The interpreter calls DynamoDB, SQS and Lambda at localhost:$MOTO_PORT: this server.
        os.environ["MOTO_PORT"] = str(self.port)
        for key, value in FAKE_CREDENTIALS.items():
            os.environ.setdefault(key, value)
        prepare_moto()
        if self.aws_limits is not None:
            self.aws_limits.install()
        app = self.wsgi_app(DomainDispatcherApplication(create_backend_app))
        try:
            self._server = make_server(
                HOST, self.port, app, threaded=True, request_handler=MotoRequestHandler, fd=aws_socket.fileno()
            )
        finally:
            aws_socket.close()  # make_server holds its own duplicate of the descriptor
        self._server.block_on_close = False  # type: ignore[attr-defined]  # stopping never waits for a keep-alive
        threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True).start()
        self._configure_moto({"stepfunctions": {"execute_state_machine": True}})
        try:
            self.provider.start(self.provider_port)
        except OSError as exc:
            raise PortInUse(f"fake provider port {self.provider_port} on {HOST}: {exc.strerror}") from None
        target = Target(endpoint_url=self.endpoint, region=self.region)
        self.services.runtime = Runtime(self.lambda_endpoint)
        self.services.function_endpoint = self.endpoint  # the functions' own AWS calls come back here
        registry.enter(self.services)
        # Lenient key: stacks that `sam deploy --config-env local` creates without the secret still work.
        self.stack = deploy_application(
            target.client, self.provider, self.stack_name, self.parameters, self.region, strict_key=False
        )
        self._start_pollers(target)
        if self.on_activity is not None:
            watcher = ExecutionWatcher(target.client("stepfunctions"), self.on_activity)
            self._spawn("execution-watcher", lambda: self._every(ACTIVITY_SECONDS, [watcher.poll_once]))
        return self.stack

    def _spawn(self, name: str, run: Callable[[], Any]) -> None:
        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _every(self, seconds: float, jobs: list[Callable[[], Any]]) -> None:
        while not self._stopping.wait(seconds):
            for job in jobs:
                try:
                    job()
                except Exception:  # keep polling, as the service does; the function's errors are its own
                    if not self._stopping.is_set():
                        _LOG.exception("%s failed", getattr(job, "__qualname__", job))

    def _start_pollers(self, target: Target) -> None:
        """Play the Lambda service's event source mappings (queues, table streams) and EventBridge's schedules
        for every stack deployed here, as AWS runs them for the account (``event_sources``)."""

        def on_batch(function_arn: str, result: PollResult) -> None:
            if self.on_activity is not None:
                self.on_activity(replay_line(result, function_arn.rsplit(":", 1)[-1]))

        sources = AccountEventSources(target.client, sqs_mappings=self.replay, on_sqs_batch=on_batch)
        self.event_sources = sources
        self._spawn("event-sources", lambda: self._every(POLL_SECONDS, [sources.poll_once]))

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
            # One host serves every API: no "sync-" prefix on StartSyncExecution (AWS CLI, boto3, SAM CLI).
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "BREAKWATER_STACK": self.stack_name,
        }

    def stop(self) -> None:
        """Stop everything :meth:`start` started, however far it got (safe to call twice)."""
        self._stopping.set()
        self.runtime.shutdown()  # first: the environments' keep-alive connections would hold the servers' threads
        # One grace period for everything, not one per thread: a job stuck in a call (an invoke sent to a Lambda
        # endpoint that went away waits up to the function's timeout plus a minute) costs it once.
        deadline = monotonic() + STOP_GRACE_SECONDS
        # The pollers first, while the server still answers: a job under way ends instead of retrying its calls
        # against a closed port.
        for thread in self._threads:
            thread.join(max(0.0, deadline - monotonic()))
        self._threads.clear()
        if self._server is not None:
            # shutdown() waits for serve_forever: bounded, in case it is stopped before it ever served.
            shutdown = threading.Thread(target=self._server.shutdown, name="moto-server-shutdown", daemon=True)
            shutdown.start()
            shutdown.join(max(0.5, deadline - monotonic()))
            self._server.server_close()
            self._server = None
        self.provider.stop()
        self.runtime.shutdown()  # and what an event source started meanwhile
        registry.leave(self.services)
        if self.aws_limits is not None:
            self.aws_limits.remove()
