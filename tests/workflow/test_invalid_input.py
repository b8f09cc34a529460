"""Bad input: each fails with InvalidOrder naming the field; nothing is called, queued or written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflow.helpers import breaker, queued, run_many

VALID: dict[str, Any] = {"orderId": "ord-1", "amount": 1999, "currency": "USD", "customerId": "cus_123"}


def without(field: str) -> dict[str, Any]:
    return {k: v for k, v in VALID.items() if k != field}


def with_(**fields: Any) -> dict[str, Any]:
    return {**VALID, **fields}


# (case id, input, the field the Cause must name)
CASES: list[tuple[str, Any, str]] = [
    ("empty object", {}, "orderId"),
    ("missing orderId", without("orderId"), "orderId"),
    ("missing amount", without("amount"), "amount"),
    ("missing currency", without("currency"), "currency"),
    ("missing customerId", without("customerId"), "customerId"),
    ("orderId number", with_(orderId=1001), "orderId"),
    ("orderId empty", with_(orderId=""), "orderId"),
    ("orderId too long", with_(orderId="o" * 129), "orderId"),
    ("orderId with space", with_(orderId="ord 1"), "orderId"),
    ("orderId non-ASCII", with_(orderId="ördér-1"), "orderId"),
    ("orderId newline", with_(orderId="ord-1\n"), "orderId"),
    ("orderId NUL", with_(orderId="ord\u00001"), "orderId"),
    ("orderId SQL injection", with_(orderId="ord'; DROP TABLE orders;--"), "orderId"),
    ("orderId markup", with_(orderId="<script>alert(1)</script>"), "orderId"),
    ("orderId JSONata-looking", with_(orderId="{% $states %}"), "orderId"),
    ("orderId object", with_(orderId={"id": "ord-1"}), "orderId"),
    ("amount zero", with_(amount=0), "amount"),
    ("amount negative", with_(amount=-5), "amount"),
    ("amount huge", with_(amount=100_000_001), "amount"),
    ("amount astronomical", with_(amount=1e20), "amount"),
    ("amount fractional", with_(amount=19.99), "amount"),
    ("amount string", with_(amount="1999"), "amount"),
    ("amount boolean", with_(amount=True), "amount"),
    ("amount null", with_(amount=None), "amount"),
    ("amount nested", with_(amount={"value": 1999}), "amount"),
    ("currency lower-case", with_(currency="usd"), "currency"),
    ("currency two letters", with_(currency="US"), "currency"),
    ("currency four letters", with_(currency="USDX"), "currency"),
    ("currency numeric", with_(currency=840), "currency"),
    ("currency non-ASCII", with_(currency="ÜSD"), "currency"),
    ("customerId empty", with_(customerId=""), "customerId"),
    ("customerId too long", with_(customerId="c" * 129), "customerId"),
    ("customerId number", with_(customerId=123), "customerId"),
    ("customerId control character", with_(customerId="cus\u0007123"), "customerId"),
    ("serviceName empty", with_(serviceName=""), "serviceName"),
    ("serviceName with slash", with_(serviceName="pay/ments"), "serviceName"),
    ("serviceName too long", with_(serviceName="s" * 129), "serviceName"),
    ("serviceName null", with_(serviceName=None), "serviceName"),
    ("serviceName injection", with_(serviceName='payment-api" OR 1=1'), "serviceName"),
    ("unexpected field", with_(card={"number": "4242424242424242"}), "input"),
    ("near-limit payload", with_(notes="x" * 200_000), "input"),
    ("null", None, "input"),
    ("array", [VALID], "input"),
    ("string", "ord-1", "input"),
    ("number", 1999, "input"),
    ("boolean", True, "input"),
]


@pytest.fixture(scope="module")
def outcome(embedded):
    embedded.provider.reset()
    stack = embedded.deploy()
    results = run_many(embedded, stack, [case[1] for case in CASES])
    return {
        "stack": stack,
        "results": dict(zip([case[0] for case in CASES], results, strict=True)),
        "provider_calls": len(embedded.provider.calls),
    }


def test_there_are_at_least_thirty_invalid_inputs():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("case", "payload", "field"), CASES, ids=[c[0] for c in CASES])
def test_invalid_input_fails_with_invalid_order_naming_the_field(outcome, case, payload, field):
    result = outcome["results"][case]

    assert result.status == "FAILED"
    assert result.error == "InvalidOrder"
    assert result.cause.startswith(f"{field}:"), result.cause
    assert result.path[-1] == "Reject invalid order"
    assert result.cost().lambda_invocations == 0
    assert result.cost().sqs_messages == 0
    assert result.cost().dynamodb_writes == 0


def test_invalid_inputs_touch_neither_table_queue_nor_provider(embedded, outcome):
    stack = outcome["stack"]

    assert outcome["provider_calls"] == 0
    assert breaker(embedded, stack) == {}
    assert queued(embedded, stack) == []


def test_valid_order_still_passes_the_same_validation(embedded, outcome, provider):
    result = embedded.run(outcome["stack"], with_(orderId="ord-ok.1:2_3", serviceName="svc-b"))

    assert result.output["status"] == "charged"
