"""Play one modelled volume on the embedded stack with AWS's limits on, in real time, and keep what happened.

Orders arrive open-loop at the local rate (an arrival never waits for earlier orders). The Lambda service's
pollers run as on AWS: the fallback queue into the replay function (as many at once as its
``MaximumConcurrency``, scaled), the table's stream into the transitions function. Each StartExecution is made
once, without the SDK's retries, so a throttled start is seen and counted (a checkout would retry it).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from breakwater.aws import Stack
from breakwater.bench.policies import warm
from breakwater.executions import ExecutionResult, start, wait
from breakwater.local.aws_limits import AwsLimits, Limits, Observed
from breakwater.local.aws_limits.lambda_concurrency import slots
from breakwater.local.event_source import EventSources
from breakwater.local.provider import Call
from breakwater.local.stack import EmbeddedStack
from breakwater.scale.scenarios import PROVIDER_LATENCY_S, Volume

EXECUTION_TIMEOUT = 180.0  # the longest path: a hanging call (10 s) and the write retries after it
POLL_SECONDS = 0.5  # how often each poller receives (the Lambda service polls continuously)
HOLD_LIMIT = 120.0
WARM_ENVIRONMENTS = 8
ONCE = Config(retries={"mode": "standard", "total_max_attempts": 1}, inject_host_prefix=False)


@dataclass
class Submitted:
    """One order as the harness sent it."""

    number: int
    order_id: str
    service: str
    at: float
    phase: str
    arn: str | None = None
    refused: str | None = None  # the StartExecution error code when the start itself was throttled


@dataclass
class VolumeRun:
    """Everything one volume's run produced."""

    volume: Volume
    started_at: float
    finished_at: float = 0.0
    submitted: list[Submitted] = field(default_factory=list)
    results: dict[str, ExecutionResult] = field(default_factory=dict)  # order id -> its execution
    replays: list[ExecutionResult] = field(default_factory=list)
    provider_calls: list[Call] = field(default_factory=list)
    phases: list[tuple[float, str, str]] = field(default_factory=list)  # (start, name, provider mode)
    observed: Observed = field(default_factory=Observed)
    queue_left: int = 0
    stack: Stack | None = None


class Pollers:
    """The Lambda service's event source mappings for one stack, polled in threads until stopped.

    The replay mapping processes at most ``replay_concurrency`` batches at once (its MaximumConcurrency,
    scaled). Below one, a single poller keeps that share of the time: after a batch that took d seconds it
    waits d x (1 / share - 1), so the replay drains at the modelled pace and not at this machine's.
    """

    def __init__(self, env: EmbeddedStack, stack: Stack, replay_concurrency: float) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        sources = EventSources.for_stack(env.client, stack.outputs, env.region)
        share = min(1.0, replay_concurrency)
        jobs: list[tuple[str, Callable[[], Any], float]] = [("transitions", sources.transitions.poll_once, 1.0)]
        jobs += [(f"replay-{n}", sources.replay.poll_once, share) for n in range(max(1, slots(replay_concurrency)))]
        for name, job, job_share in jobs:
            thread = threading.Thread(target=self._every, args=(job, job_share), name=f"scale-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _every(self, job: Callable[[], Any], share: float) -> None:
        pause = POLL_SECONDS
        while not self._stop.wait(pause):
            began = time.monotonic()
            received = 0
            # A throttled invoke or receive is retried at the next poll, as the service does.
            with contextlib.suppress(ClientError):
                received = job().received
            # The service polls again at once while there are records (long polling), and waits when there were none.
            pause = (0.0 if received else POLL_SECONDS) + (time.monotonic() - began) * (1 / share - 1)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def _configure(env: EmbeddedStack, provider_mode: str) -> None:
    if provider_mode == "down":
        env.provider.configure(mode="down")
    else:  # healthy, and hang (held on top of a healthy provider)
        env.provider.configure(mode="slow", delay_seconds=PROVIDER_LATENCY_S)


def play(volume: Volume, on_phase: Callable[[str], None] = lambda _: None) -> VolumeRun:
    """Deploy a fresh stack, run the volume's script in real time, wait for every execution, collect."""
    limits = AwsLimits(Limits(scale=volume.scale, overrides=volume.overrides()))
    with EmbeddedStack(aws_limits=limits) as env:
        stack = env.deploy(f"scale-{volume.name}", **volume.template_parameters())
        # A steady load has scaled the function out already: its environments count as made (Lambda's scaling
        # rate binds a cold start, not this), and a few local ones start outside the clock.
        payment = stack.outputs["PaymentFunctionArn"]
        made = slots(limits.limits.scaled(volume.payment_concurrency or 1000))
        limits.lambda_.prewarm(payment.rsplit(":", 1)[-1], made)
        # No more at once than the function may run: without a bulkhead that is the account's scaled pool.
        warm(env, payment, min(WARM_ENVIRONMENTS, made), volume.service(0))
        limits.observed.reset()  # the warm-up is not part of the run
        env.provider.reset()
        _configure(env, "healthy")
        run = VolumeRun(volume=volume, started_at=time.time(), observed=limits.observed, stack=stack)
        pollers = Pollers(env, stack, limits.limits.scaled(replay_concurrency(env, stack)))
        sfn = boto3.client("stepfunctions", region_name=env.region, config=ONCE)  # type: ignore[call-overload]
        try:
            _submit_script(env, sfn, stack, volume, run, on_phase)
            _wait_all(env, run)
        finally:
            pollers.stop()
        run.finished_at = time.time()
        run.provider_calls = list(env.provider.calls)
        run.replays = _replays(env, stack, run)
        attributes = env.client("sqs").get_queue_attributes(
            QueueUrl=stack.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        run.queue_left = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return run


def replay_concurrency(env: EmbeddedStack, stack: Stack) -> int:
    """The replay mapping's ScalingConfig.MaximumConcurrency (the template's), as deployed."""
    mappings = env.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    for mapping in (m for m in mappings if m.get("FunctionArn") == stack.outputs["ReplayFunctionArn"]):
        maximum = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
        if maximum:
            return int(maximum)
    return 2


def _submit_script(
    env: EmbeddedStack, sfn: Any, stack: Stack, volume: Volume, run: VolumeRun, on_phase: Callable[[str], None]
) -> None:
    pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="scale-start")
    futures: list[tuple[Submitted, Future[str]]] = []
    cursor = time.time()
    number = 0
    interval = 1.0 / (volume.total_rate / volume.scale)
    try:
        for phase in volume.script:
            _sleep_until(cursor)
            on_phase(phase.name)
            holding = env.provider.holding(HOLD_LIMIT) if phase.provider == "hang" else contextlib.nullcontext()
            with holding:
                _configure(env, phase.provider)
                run.phases.append((time.time(), phase.name, phase.provider))
                count = round(phase.seconds / interval)
                for k in range(count):
                    _sleep_until(cursor + k * interval)
                    order = volume.order(number)
                    entry = Submitted(number, order["orderId"], volume.service(number), time.time(), phase.name)
                    futures.append((entry, pool.submit(start, sfn, stack.state_machine_arn, order, order["orderId"])))
                    run.submitted.append(entry)
                    number += 1
                cursor += phase.seconds
                _sleep_until(cursor)
        for entry, future in futures:
            try:
                entry.arn = future.result()
            except ClientError as exc:
                entry.refused = exc.response["Error"]["Code"]
    finally:
        pool.shutdown(wait=True)


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def _wait_all(env: EmbeddedStack, run: VolumeRun) -> None:
    sfn = env.client("stepfunctions")
    for entry in run.submitted:
        if entry.arn is not None:
            run.results[entry.order_id] = wait(sfn, entry.arn, EXECUTION_TIMEOUT, poll=0.05)


def _replays(env: EmbeddedStack, stack: Stack, run: VolumeRun) -> list[ExecutionResult]:
    """The executions the replay function started during the run (named replay-...), finished."""
    sfn = env.client("stepfunctions")
    mine = {entry.arn for entry in run.submitted}
    found: list[ExecutionResult] = []
    token: dict[str, str] = {}
    while True:
        page = sfn.list_executions(stateMachineArn=stack.state_machine_arn, maxResults=1000, **token)
        for execution in page["executions"]:
            if execution["executionArn"] not in mine and execution["name"].startswith("replay-"):
                found.append(wait(sfn, execution["executionArn"], EXECUTION_TIMEOUT, poll=0.05))
        if not page.get("nextToken"):
            return found
        token = {"nextToken": page["nextToken"]}
