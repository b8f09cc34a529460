"""The policies under test, one interface: submit orders, wait for them, report what happened.

* ``no-breaker``: the payment Lambda is invoked for every order; when the call
  fails the Lambda queues the order on SQS itself.
* ``reference``: the same Lambda with the seed's breaker inside it
  (:mod:`breakwater.bench.reference`), its item in a DynamoDB table.
* ``breakwater``: the real workflow, deployed from ``template.yaml``
  (:mod:`breakwater.bench.workflow`).

The two Lambda-only policies invoke the payment function deployed from
``template.yaml`` (``functions/payment/app.py``, the template's environment,
memory and timeout) through the Lambda API. Their breaker logic and fallback
queueing run in this process and are timed as part of the Lambda's duration.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from breakwater.bench.records import CallFact, OrderRecord
from breakwater.bench.reference import Admission, ReferenceBreaker, Tally
from breakwater.bench.settings import BreakerSettings
from breakwater.breaker_record import BreakerState
from breakwater.executions import Transition
from breakwater.local.stack import EmbeddedStack

WORKERS = 64  # enough threads for a 50-order burst plus slow calls in flight
WARM_UP_ORDER = {"orderId": "warm-up", "amount": 100, "currency": "USD", "customerId": "cus_warm_up"}


def warm(env: EmbeddedStack, function_arn: str, environments: int, service: str) -> None:
    """Start ``environments`` environments of the payment function at once, outside the scenario's clock."""
    lam = env.client("lambda")
    payload = json.dumps({**WARM_UP_ORDER, "serviceName": service}).encode()
    # A cold start may run past a short function timeout; the environment it started is then warm for the next.
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=environments) as pool:
            answers = list(
                pool.map(lambda _: lam.invoke(FunctionName=function_arn, Payload=payload), range(environments))
            )
        if not any(a.get("FunctionError") for a in answers):
            return


def queue_depth(sqs: Any, queue_url: str) -> int:
    """Messages on a fallback queue, visible or not: a replay defers an order by hiding it until its retry delay
    (ApproximateNumberOfMessagesNotVisible), and such an order is still waiting on the queue."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def state_changes(writes: list[tuple[float, str, str]]) -> list[Transition]:
    """The changes a breaker item went through, from its writers' logs of (when, seen, written) state.

    Several writers can write the same change (each saw the old state): in time order, a write that leaves
    the state as it was is no change.
    """
    changes: list[Transition] = []
    current: str = BreakerState.CLOSED
    for at, _, new in sorted(writes):
        if new != current:
            changes.append(Transition(at, current, new))
            current = new
    return changes


BUSINESS_ERRORS = {"PaymentDeclined": "declined", "InvalidOrder": "invalid"}


class Policy(ABC):
    """A way of handling orders, run against the embedded stack."""

    name: str
    has_breaker: bool = True
    has_replay: bool = False  # it brings queued orders back by itself (start_replay does something)

    def __init__(self, settings: BreakerSettings) -> None:
        self.settings = settings

    @abstractmethod
    def prepare(self, env: EmbeddedStack, run_name: str) -> None:
        """Create fresh resources for one run and warm them with one healthy order (not recorded)."""

    @abstractmethod
    def submit(self, orders: list[dict[str, Any]]) -> None:
        """Start handling ``orders`` now, all at once; returns without waiting."""

    @abstractmethod
    def drain(self) -> None:
        """Wait until every submitted order has finished."""

    @abstractmethod
    def records(self) -> list[OrderRecord]:
        """One record per submitted order (after :meth:`drain`)."""

    @abstractmethod
    def transitions(self) -> list[Transition]:
        """The breaker's state changes, in order."""

    @abstractmethod
    def cooldown_expiry(self) -> float | None:
        """When the OPEN breaker lets the next order through; None when not OPEN."""

    @abstractmethod
    def queue_depth(self) -> int:
        """Messages on the fallback queue."""

    @abstractmethod
    def close(self) -> None:
        """Release threads."""

    def start_replay(self) -> None:  # noqa: B027 - most policies have no replay: nothing to start
        """Replay queued orders while the scenario runs, when the policy has a replay (most have none)."""

    def stop_replay(self) -> None:  # noqa: B027 - nothing to stop
        """Stop what :meth:`start_replay` started."""


class LambdaPolicy(Policy):
    """Shared machinery of the policies that are a single Lambda per order.

    The payment call is the payment function deployed from ``template.yaml``
    (same code, environment, memory and timeout as Breakwater's), invoked
    through the Lambda API; failed orders go to that stack's fallback queue.
    """

    calls_payment_function = True  # False: the policy's own function wraps the payment code (warmed by it)

    def __init__(self, settings: BreakerSettings) -> None:
        super().__init__(settings)
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=f"bench-{self.name}")
        self._futures: list[tuple[dict[str, Any], float, Future[OrderRecord]]] = []
        self._sqs: Any = None
        self._lambda: Any = None
        self._function = ""
        self._queue_url = ""

    def prepare(self, env: EmbeddedStack, run_name: str) -> None:
        self._futures = []
        stack = env.deploy(run_name, **self.settings.template_parameters())
        self._sqs = env.client("sqs")
        self._lambda = env.client("lambda")
        self._function = stack.outputs["PaymentFunctionArn"]
        self._queue_url = stack.queue_url
        if self.calls_payment_function:
            warm(env, self._function, self.settings.warm_environments, self.settings.service)

    def submit(self, orders: list[dict[str, Any]]) -> None:
        for order in orders:
            submitted = time.time()
            self._futures.append((order, submitted, self._pool.submit(self._handle, order, submitted)))

    def drain(self) -> None:
        for _, _, future in self._futures:
            future.exception()

    def records(self) -> list[OrderRecord]:
        out = []
        for order, submitted, future in self._futures:
            error = future.exception()
            if error is None:
                out.append(future.result())
            else:  # the harness could not tell what happened: the order counts as lost
                out.append(OrderRecord(str(order.get("orderId")), submitted, time.time(), "lost", repr(error)))
        return out

    def queue_depth(self) -> int:
        return queue_depth(self._sqs, self._queue_url)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _call(self, order: dict[str, Any]) -> tuple[str | None, float, float]:
        """Invoke the payment function; returns (error name or None, started, reported)."""
        payload = json.dumps({"serviceName": self.settings.service, **order}).encode()
        started = time.time()
        response = self._lambda.invoke(FunctionName=self._function, Payload=payload)
        answer = json.loads(response["Payload"].read() or b"null")
        reported = time.time()
        if not response.get("FunctionError"):
            return None, started, reported
        error = answer.get("errorType") if isinstance(answer, dict) else None
        return str(error or "Lambda.Unknown"), started, reported

    def _queue(self, order: dict[str, Any], reason: str) -> None:
        body = json.dumps({"order": order, "reason": reason, "queuedBy": self.name})
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)

    @abstractmethod
    def _handle(self, order: dict[str, Any], submitted: float) -> OrderRecord:
        """Run one invocation of the Lambda for ``order``."""


class NoBreaker(LambdaPolicy):
    """Call the provider for every order; queue the order when the call fails."""

    name = "no-breaker"
    has_breaker = False

    def _handle(self, order: dict[str, Any], submitted: float) -> OrderRecord:
        began = time.time()
        error, started, reported = self._call(order)
        failed = error is not None and error not in BUSINESS_ERRORS
        fact = CallFact(order["orderId"], started, started, reported, failed, role="unguarded")
        record = OrderRecord(order["orderId"], submitted, 0.0, "charged", call=fact, lambda_invocations=1)
        if error in BUSINESS_ERRORS:
            record.outcome = BUSINESS_ERRORS[error]
        elif failed:
            self._queue(order, "call_failed")
            record.outcome, record.reason, record.sqs_messages = "queued", "call_failed", 1
        record.finished_at = time.time()
        record.lambda_ms = (record.finished_at - began) * 1000
        record.label = record.reason or record.outcome
        return record

    def transitions(self) -> list[Transition]:
        return []

    def cooldown_expiry(self) -> float | None:
        return None


class Reference(LambdaPolicy):
    """The seed's breaker inside the Lambda (:class:`breakwater.bench.reference.ReferenceBreaker`)."""

    name = "reference"

    def __init__(self, settings: BreakerSettings) -> None:
        super().__init__(settings)
        self._breaker: ReferenceBreaker | None = None
        self._breakers: dict[str, ReferenceBreaker] = {}
        self._dynamodb: Any = None
        self._table = ""
        self._log: list[tuple[float, str, str]] = []
        self._log_lock = threading.Lock()

    def prepare(self, env: EmbeddedStack, run_name: str) -> None:
        super().prepare(env, run_name)
        dynamodb = env.client("dynamodb")
        table = f"{run_name}-breakers-{uuid.uuid4().hex[:6]}"
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "serviceName", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "serviceName", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self._log = []
        self._dynamodb, self._table = dynamodb, table
        self._breakers = {}
        self._breaker = self._breaker_for(self.settings.service)

    def _breaker_for(self, service: str) -> ReferenceBreaker:
        """The breaker of ``service`` (one item each, as the seed keys its items by service)."""
        with self._log_lock:
            breaker = self._breakers.get(service)
            if breaker is None:
                s = self.settings
                breaker = self._breakers[service] = ReferenceBreaker(
                    self._dynamodb,
                    self._table,
                    service,
                    s.threshold,
                    s.cooldown_s,
                    s.success_threshold,
                    on_transition=self._logged if service == s.service else self._ignored,
                )
            return breaker

    def _ignored(self, at: float, seen: str, new: str) -> None:
        """Transitions of the other tenants' breakers: not the one the report draws."""

    def _logged(self, at: float, seen: str, new: str) -> None:
        with self._log_lock:
            self._log.append((at, seen, new))

    def _handle(self, order: dict[str, Any], submitted: float) -> OrderRecord:
        breaker = self._breaker_for(str(order.get("serviceName") or self.settings.service))
        began = time.time()
        tally = Tally()
        admission = breaker.admit(tally)
        record = OrderRecord(order["orderId"], submitted, 0.0, "queued", "circuit_open", lambda_invocations=1)
        if admission.allowed:
            self._called(breaker, order, admission, tally, record)
        if record.outcome == "queued":
            self._queue(order, record.reason or "")
            record.sqs_messages = 1
        record.dynamodb_reads, record.dynamodb_writes = tally.reads, tally.writes
        record.dynamodb_ms = tally.latencies_ms
        record.finished_at = time.time()
        record.lambda_ms = (record.finished_at - began) * 1000
        record.label = f"{admission.state.lower()}, {record.reason or record.outcome}"
        return record

    def _called(
        self, breaker: ReferenceBreaker, order: dict[str, Any], admission: Admission, tally: Tally, record: OrderRecord
    ) -> None:
        error, started, reported = self._call(order)
        failed = error is not None and error not in BUSINESS_ERRORS
        role = "probe" if admission.state == BreakerState.HALF_OPEN else "closed"
        record.call = CallFact(
            order["orderId"], admission.decided_at, started, reported, failed, role=role, episode=admission.episode
        )
        if error in BUSINESS_ERRORS:
            record.outcome, record.reason = BUSINESS_ERRORS[error], None
        elif failed:
            breaker.record_failure(tally)
            record.outcome, record.reason = "queued", "call_failed"
        else:
            breaker.record_success(tally)
            record.outcome, record.reason = "charged", None

    def transitions(self) -> list[Transition]:
        """The state changes the item actually went through (concurrent writers of one change count once)."""
        with self._log_lock:
            return state_changes(self._log)

    def cooldown_expiry(self) -> float | None:
        assert self._breaker is not None
        return self._breaker.open_until()
