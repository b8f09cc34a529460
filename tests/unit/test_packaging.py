"""Every function of the template has events to run and an expectation (each built function runs them:
tests/local/test_packaging.py)."""

from __future__ import annotations

from typing import Any

from breakwater.local.build import function_sources
from breakwater.local.invoke import events_for, functions
from breakwater.template import load_template

TEMPLATE = load_template()


SOURCES = function_sources(TEMPLATE)


# What a successful run of each function answers (its own contract, not the runtime's).
EXPECTED: dict[str, Any] = {
    "PaymentFunction": lambda payload: payload["status"] == "succeeded" and payload["chargeId"].startswith("ch_"),
    "ReplayFunction": lambda payload: isinstance(payload.get("batchItemFailures"), list),
    "TransitionsFunction": lambda payload: payload["published"] >= 1,
    # GET /orders/{orderId} of an order this stack has no record of: the API's 404, status unknown.
    "CheckoutFunction": lambda payload: payload["statusCode"] == 404 and '"status": "unknown"' in payload["body"],
}


def test_every_function_of_the_template_has_events_and_an_expectation():
    assert set(SOURCES) == set(functions(TEMPLATE)) == set(EXPECTED)
    for logical_id in SOURCES:
        assert events_for(logical_id), f"{logical_id} has no events/{logical_id.lower()}*.json"
