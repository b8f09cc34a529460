"""The JSONata evaluations of a story of real executions: the corpus of the differential test.

The orders go through the real workflow on the embedded stack while the local
evaluator records every (expression, bindings) pair it is given. They cover
what makes JSONata engines disagree: astral, combining, right-to-left and
control characters, U+2028/U+2029, large, negative and fractional numbers,
integer-like keys, inputs that are not objects; and every path: charged,
declined, rejected by the provider, invalid, failures, a trip, fast fails, a
failed probe, a probe that closes the breaker, a different breaker, and
executions running at once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import types
from collections.abc import Iterator
from typing import Any
from unittest import mock

import time_machine
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.sqs.models import SQSBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from breakwater.local import jsonata
from breakwater.local.stack import EmbeddedStack
from tests.workflow.helpers import breaker, order, put_breaker, run_many

START = dt.datetime(2026, 5, 4, 8, 0, 0, tzinfo=dt.UTC)
EMOJI = "\U0001f600"
FAILURE_THRESHOLD = 2
COOLDOWN_SECONDS = 30
FAILURE_WINDOW_SECONDS = 60

# customerIds: valid on AWS unless they hold control characters or pass 128 characters.
CUSTOMERS = [
    "cus_123",
    "Jürgen",
    EMOJI * 100,
    EMOJI * 128,
    EMOJI * 129,
    "e\u0301" * 64,
    "e\u0301" * 65,
    "\u05e9\u05dc\u05d5\u05dd \u0639\u0644\u064a \u202eabc\u202c \u200f!",
    "line\u2028para\u2029end",
    'quote " backslash \\ slash / ',
    "\u00a0\ufeff\u200b zero-width",
    "tab\there",
    "new\nline",
    "nul\u0000",
    "del\u007f",
    "\u0085 next line",
    "x" * 128,
    "x" * 129,
    "",
]
AMOUNTS: list[Any] = [
    1,
    100000000,
    0,
    -5,
    -(2**63),
    100000001,
    19.99,
    1e300,
    -1e-7,
    2**60,
    9007199254740993,
    1.0,
    "1999",
    True,
    None,
]
# Extra fields, some integer-like: AWS (JavaScript) lists integer-like keys first.
EXTRA_FIELDS: list[dict[str, Any]] = [
    {"zzz": 1, "1": 2},
    {"b": 1, "0": 0, "10": 1, "9": 2},
    {"01": 1, "zzz": 2},
    {"4294967295": 1, "4294967294": 2},
    {"-1": 1, "1.5": 2},
    {"nested": {"2": "b", "1": "a"}},
]
NOT_OBJECTS: list[Any] = [[], ["ord-1"], "ord-1", 42, -0.5, None, True, {"order": order()}]


def _valid_and_invalid_orders() -> Iterator[Any]:
    for customer in CUSTOMERS:
        yield order(customerId=customer)
    for amount in AMOUNTS:
        yield order(amount=amount)
    for extra in EXTRA_FIELDS:
        yield {**order(), **extra}
    yield from NOT_OBJECTS
    yield order(currency="usd")
    yield order(currency="ÜSD")
    yield order(orderId="ord \U0001f600")
    yield order(orderId="o" * 129)
    yield order(serviceName="svc.alpha")
    yield order(serviceName="bad service")
    yield {k: v for k, v in order().items() if k != "customerId"}


def _failing(error: str) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise JsonRESTError(error, "injected fault")

    return fail


def record(embedded: EmbeddedStack) -> list[jsonata.Case]:
    """Run the story on a fresh stack and return every evaluation the local evaluator made."""
    provider = embedded.provider
    provider.reset()
    stack = embedded.deploy(
        FailureThreshold=FAILURE_THRESHOLD,
        CooldownSeconds=COOLDOWN_SECONDS,
        MaxCooldownSeconds=300,
        FailureWindowSeconds=FAILURE_WINDOW_SECONDS,
        SuccessThreshold=1,
    )
    try:
        with time_machine.travel(START, tick=True) as traveller, embedded.jsonata.recording() as cases:
            for item in _valid_and_invalid_orders():
                embedded.run(stack, item)
            embedded.run(stack, order(customerId="cus_card_declined"))
            embedded.run(stack, order(customerId="cus_malformed"))
            # failures below the threshold, then the trip, then fast fails (queued with unicode in the body)
            provider.configure(mode="down")
            for customer in ("Jürgen", EMOJI * 3, "line\u2028end"):
                embedded.run(stack, order(customerId=customer, amount=123456789 % 100000000))
            assert breaker(embedded, stack)["state"] == "OPEN", "the story expects a trip"
            run_many(embedded, stack, [order(customerId=c) for c in ("Jürgen", EMOJI * 100, "\u202eabc")])
            # a probe that fails reopens; a probe that succeeds closes
            traveller.shift(dt.timedelta(seconds=COOLDOWN_SECONDS + 1))
            embedded.run(stack, order(customerId="probe-1"))
            traveller.shift(dt.timedelta(seconds=2 * COOLDOWN_SECONDS + 1))
            provider.configure(mode="healthy")
            embedded.run(stack, order(customerId="probe-\U0001f600"))
            assert breaker(embedded, stack)["state"] == "CLOSED", "the story expects the probe to close the breaker"
            # operator overrides, half-open admission (busy, expired lease, declined probe), shadow mode
            now_ms = int(dt.datetime.now(tz=dt.UTC).timestamp() * 1000)
            for state, customer, attributes in (
                ("HALF_OPEN", "busy \U0001f600", {"probesInFlight": 1, "probeLeaseUntilMs": now_ms + 60_000}),
                ("HALF_OPEN", "lease", {"probesInFlight": 1, "probeLeaseUntilMs": now_ms - 1}),
                ("HALF_OPEN", "cus_card_declined", {"probesInFlight": 0, "tripCount": 1}),
                ("FORCED_OPEN", "Jürgen", {}),
                ("DISABLED", "Jürgen", {}),
                ("OPEN", "shadow \u2028", {"mode": "SHADOW", "openUntilMs": now_ms + 60_000, "tripCount": 1}),
            ):
                put_breaker(embedded, stack, state=state, **attributes)
                embedded.run(stack, order(customerId=customer))
            put_breaker(embedded, stack, state="CLOSED")
            # executions at once, and failures below the threshold after the close
            run_many(embedded, stack, [order(customerId=c) for c in itertools.islice(itertools.cycle(CUSTOMERS), 8)])
            provider.configure(mode="down")
            embedded.run(stack, order(serviceName="svc.beta"))
            # a failure once that failure's window has expired (the window restarts), then a success
            traveller.shift(dt.timedelta(seconds=FAILURE_WINDOW_SECONDS + 1))
            embedded.run(stack, order(serviceName="svc.beta", customerId="\u202eafter"))
            provider.configure(mode="healthy")
            embedded.run(stack, order(serviceName="svc.beta", customerId="e\u0301"))
            # faults: the table unreadable (fail open), the table busy (breaker_busy), the fallback queue failing
            # (FallbackUnavailable)
            waits = types.SimpleNamespace(sleep=lambda seconds: traveller.shift(dt.timedelta(seconds=seconds)))
            with mock.patch.object(retrier_decl, "time", waits):
                with mock.patch.object(DynamoDBBackend, "get_item", _failing("InternalServerErrorException")):
                    embedded.run(stack, order(customerId="Jürgen \U0001f600"))
                with mock.patch.object(DynamoDBBackend, "get_item", _failing("ThrottlingException")):
                    embedded.run(stack, order(customerId="busy \u2028"))
                provider.configure(mode="down")
                with mock.patch.object(SQSBackend, "send_message", _failing("InternalError")):
                    embedded.run(stack, order(customerId="nowhere \u2028"))
    finally:
        provider.reset()
    return list(cases)


def distinct(cases: list[jsonata.Case]) -> list[jsonata.Case]:
    """One case per (expression, bindings); the clock counts only for expressions that read it."""
    seen: dict[tuple[str, str, int], jsonata.Case] = {}
    for case in cases:
        reads_clock = "$millis" in case.expression or "$now" in case.expression
        key = (case.expression, json.dumps(case.bindings, sort_keys=True), case.now_ms if reads_clock else 0)
        seen.setdefault(key, case)
    return list(seen.values())


def to_file_cases(cases: list[jsonata.Case]) -> list[dict[str, Any]]:
    """The cases as the reference runner reads them (jsonata_reference.js)."""
    return [{"expression": c.expression, "bindings": c.bindings, "nowMs": c.now_ms} for c in cases]
