"""The ``powertools`` policies: Powertools for AWS Lambda's circuit breaker around the payment call.

The function is the payment function's own build (``functions/payment``, its pinned
``aws-lambda-powertools==3.37.0``) with one module added,
``breakwater/bench/functions/powertools/powertools_breaker.py``, as its handler: the payment handler
wrapped in ``@circuit_breaker`` with ``CircuitBreakerDynamoDBPersistence``. It is created beside the
stack's payment function with that function's role, memory and environment (so its call timeout), a timeout
longer by ``BOOKKEEPING_SECONDS`` for the breaker's write and the queueing after a call that timed out, plus the
breaker's settings, and with a reserved concurrency of K: the local runtime then runs at most K execution
environments, each a process with Powertools' own per-process state (consecutive-failure counters in
``_LOCAL_FAILURES``, the persistence layer's read cache), as Lambda runs them. All K are started before
the scenario, and an invocation goes to a random idle one, as concurrent invocations spread over warm
environments.

Settings, mapped from :class:`~breakwater.bench.settings.BreakerSettings`:

* ``failure_threshold`` = threshold, ``recovery_timeout`` = cooldown, ``success_threshold`` = success
  threshold; ``handled_exceptions`` = the payment function's ``PaymentServiceUnavailable`` (so declines and
  invalid orders are not failures, as for every policy);
* ``local_cache_max_age`` stays at its default, 5 s: what a team adopting it would run;
* no equivalent: the failure window (Powertools counts consecutive failures per environment, without
  time), the growing cooldown, the number of probes (one owner thread runs them all), the probe lease
  (Powertools leases for ``recovery_timeout``), the failure-rate and slow-call rules.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from breakwater.bench.policies import LambdaPolicy, state_changes, warm
from breakwater.bench.records import CallFact, OrderRecord
from breakwater.bench.settings import BreakerSettings
from breakwater.executions import Transition
from breakwater.local.build import build_all, zip_folder
from breakwater.local.stack import EmbeddedStack
from breakwater.template import load_template

HANDLER_MODULE = Path(__file__).with_name("functions") / "powertools" / "powertools_breaker.py"
ENVIRONMENT_COUNTS = (1, 5, 20)
WARM_ROUNDS = 10
# The function's K environments are its reserved concurrency, and Lambda refuses an invoke past it (429). The
# bench models a caller that waits for one of the K, as a queue in front of the function would: it tries again.
# The function's timeout is the payment call's plus this: the call still gives up after CallTimeoutSeconds
# (PAYMENT_TIMEOUT_SECONDS, copied from the payment function), and Powertools' failure write and the SQS send
# that queues the order have room after it, as a team running a Lambda-only breaker would give them. With the
# payment function's own timeout (the call's), a hanging call left them 0.25 s, and on a busy machine the
# function timed out before the order was queued: 23 orders lost in the burst at K=5.
BOOKKEEPING_SECONDS = 3
THROTTLE_RETRY_SECONDS = 0.02
THROTTLE_PATIENCE_SECONDS = 120.0


@cache
def package() -> bytes:
    """The payment function's build with the Powertools wrapper added, zipped (built once per process)."""
    payment = build_all(load_template())["PaymentFunction"]
    with tempfile.TemporaryDirectory(prefix="breakwater-powertools-") as folder:
        target = Path(folder) / "code"
        shutil.copytree(payment.code_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(HANDLER_MODULE, target / HANDLER_MODULE.name)
        return zip_folder(target)


class Powertools(LambdaPolicy):
    """Powertools' circuit breaker in the payment Lambda, with K execution environments."""

    calls_payment_function = False

    def __init__(self, settings: BreakerSettings, environments: int) -> None:
        self.name = f"powertools-k{environments}"
        self.environments = environments
        super().__init__(settings)
        self._table = ""
        self._dynamodb: Any = None
        self._log: list[tuple[float, str, str]] = []
        self._log_lock = threading.Lock()

    def prepare(self, env: EmbeddedStack, run_name: str) -> None:
        super().prepare(env, run_name)
        self._log = []
        lam = env.client("lambda")
        self._dynamodb = env.client("dynamodb")
        self._table = f"{run_name}-powertools-{uuid.uuid4().hex[:6]}"
        self._dynamodb.create_table(
            TableName=self._table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        payment = lam.get_function_configuration(FunctionName=self._function)
        s = self.settings
        variables = {
            **{k: str(v) for k, v in payment.get("Environment", {}).get("Variables", {}).items()},
            "CIRCUIT_TABLE": self._table,
            "FALLBACK_QUEUE_URL": self._queue_url,
            "FAILURE_THRESHOLD": str(s.threshold),
            "RECOVERY_TIMEOUT_SECONDS": str(s.cooldown_s),
            "SUCCESS_THRESHOLD": str(s.success_threshold),
        }
        created = lam.create_function(
            FunctionName=f"{run_name}-powertools"[:64],
            Runtime=payment["Runtime"],
            Role=payment["Role"],
            Handler=f"{HANDLER_MODULE.stem}.handler",
            Code={"ZipFile": package()},
            Timeout=payment["Timeout"] + BOOKKEEPING_SECONDS,
            MemorySize=payment["MemorySize"],
            Architectures=payment.get("Architectures", ["arm64"]),
            Environment={"Variables": variables},
        )
        lam.put_function_concurrency(
            FunctionName=created["FunctionName"], ReservedConcurrentExecutions=self.environments
        )
        self._function = created["FunctionArn"]
        # K invocations at once start K environments only if they overlap; on a busy machine one can finish
        # before the last starts, so warm until all K are there.
        for _ in range(WARM_ROUNDS):
            warm(env, self._function, self.environments, s.service)
            if env.runtime.environments_of(self._function) >= self.environments:
                break

    def _invoke_when_admitted(self, payload: bytes) -> Any:
        """Invoke, trying again while Lambda throttles the call: all K environments are busy."""
        deadline = time.monotonic() + THROTTLE_PATIENCE_SECONDS
        while True:
            try:
                return self._lambda.invoke(FunctionName=self._function, Payload=payload)
            except ClientError as error:
                throttled = error.response.get("Error", {}).get("Code") == "TooManyRequestsException"
                if not throttled or time.monotonic() > deadline:
                    raise
            time.sleep(THROTTLE_RETRY_SECONDS)

    def _handle(self, order: dict[str, Any], submitted: float) -> OrderRecord:
        began = time.time()
        payload = json.dumps({**order, "serviceName": order.get("serviceName", self.settings.service)}).encode()
        response = self._invoke_when_admitted(payload)
        answer = json.loads(response["Payload"].read() or b"null")
        finished = time.time()
        if response.get("FunctionError") or not isinstance(answer, dict):
            error = answer.get("errorType") if isinstance(answer, dict) else None
            return OrderRecord(order["orderId"], submitted, finished, "lost", str(error), lambda_invocations=1)
        outcome = str(answer["status"])
        record = OrderRecord(order["orderId"], submitted, finished, outcome, answer.get("reason"), lambda_invocations=1)
        if "started" in answer:
            failed = outcome == "queued" and answer.get("reason") == "call_failed"
            role = "probe" if answer.get("probe") else "closed"
            record.call = CallFact(order["orderId"], began, answer["started"], answer["reported"], failed, role)
        record.dynamodb_reads = int(answer["dynamodb"]["reads"])
        record.dynamodb_writes = int(answer["dynamodb"]["writes"])
        record.sqs_messages = int(outcome == "queued")
        record.lambda_ms = (finished - began) * 1000
        record.label = f"{'probe' if answer.get('probe') else 'closed'}, {record.reason or outcome}"
        with self._log_lock:
            self._log.extend((float(at), before, after) for at, before, after in answer.get("transitions", []))
        return record

    def transitions(self) -> list[Transition]:
        """The state changes of the shared item (two environments writing one change count once)."""
        with self._log_lock:
            return state_changes(self._log)

    def cooldown_expiry(self) -> float | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": self.settings.service}}, ConsistentRead=True
        ).get("Item")
        if item is None or item.get("state", {}).get("S") != "OPEN" or "opened_at" not in item:
            return None
        return float(item["opened_at"]["N"]) + self.settings.cooldown_s
