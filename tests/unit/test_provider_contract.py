"""The provider contract: every adapter of the payment function passes the same cases.

Each case runs once per adapter (``generic``, ``stripe``): the payment function's handler with
``PAYMENT_PROVIDER`` set, against the fake provider, which speaks both APIs over one store of charges. The
cases are the contract the workflow relies on (docs/bring-your-own-provider.md): a charge, the idempotency key
and what it protects against (a replay, a retry after an outage, a key reused with other parameters), a
decline, an invalid request, and every kind of failure that must count against the breaker. The answers the
fake provider cannot give (409, 424, an unreadable body) are given to the adapter directly: adapters are pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from breakwater.local.provider import FakeProvider
from breakwater.local.provider_dialects import DIALECTS, Dialect, Problem
from tests.function_modules import load

app = load("payment", "payment_app_contract")
contract = app.importlib.import_module("payment_contract")

ADAPTERS = ("generic", "stripe")
DIALECT_OF = {dialect.name: dialect for dialect in DIALECTS.values()}


def order(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"orderId": "ord-c-1", "amount": 4250, "currency": "EUR", "customerId": "cus_ok"}
    event.update(overrides)
    return event


@pytest.fixture(scope="module")
def _shared() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(params=ADAPTERS)
def adapter_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def provider(_shared: FakeProvider, adapter_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """The fake provider, healthy and empty, with the payment function pointed at it through ``adapter_name``."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    _shared.reset()
    monkeypatch.setenv(app.API_URL_ENV, _shared.url)
    monkeypatch.setenv(app.PROVIDER_ENV, adapter_name)
    monkeypatch.setenv(app.TIMEOUT_ENV, "2")
    yield _shared
    _shared.reset()


# -- a charge and its idempotency key ---------------------------------------------------------------


def test_an_order_is_charged_once_under_its_order_id(provider):
    result = app.handler(order(), None)

    (key,) = provider.charges
    charge = provider.charges[key]
    assert key == "ord-c-1"
    assert result == {"chargeId": charge["id"], "status": "succeeded"}
    assert (charge["amount"], charge["currency"], charge["customer"], charge["orderId"]) == (
        4250,
        "EUR",
        "cus_ok",
        "ord-c-1",
    )


def test_a_replayed_order_gets_its_first_charge_back(provider):
    first = app.handler(order(), None)

    again = app.handler(order(serviceName="another-breaker"), None)  # a replay carries the same order

    assert again == first
    assert len(provider.charges) == 1
    assert [call.status for call in provider.calls] == [200, 200]


def test_an_order_retried_after_an_outage_is_charged_once(provider):
    provider.configure(mode="down")
    with pytest.raises(app.PaymentServiceUnavailable):
        app.handler(order(), None)
    provider.configure(mode="healthy")

    result = app.handler(order(), None)
    again = app.handler(order(), None)

    assert result == again
    assert len(provider.charges) == 1  # the outage's answer saved nothing under the key


@pytest.mark.parametrize(
    "changed", [{"amount": 4251}, {"currency": "USD"}, {"customerId": "cus_other"}], ids=lambda c: next(iter(c))
)
def test_a_reused_key_with_other_parameters_is_refused_as_an_invalid_order(provider, changed):
    first = app.handler(order(), None)

    with pytest.raises(app.InvalidOrder, match=r"(?i)idempoten") as refused:
        app.handler(order(**changed), None)

    assert len(provider.charges) == 1
    assert provider.charges["ord-c-1"]["id"] == first["chargeId"]
    assert provider.charges["ord-c-1"]["amount"] == 4250
    assert "ord-c-1" in str(refused.value)


def test_every_attempt_sends_the_key_the_contract_derives_from_the_order(provider):
    ordered = contract.Order("ord-c-1", 4250, "EUR", "cus_ok")
    request = app.adapter().charge_request(ordered, contract.idempotency_key(ordered), None)

    assert contract.idempotency_key(ordered) == "ord-c-1"
    assert request.headers["Idempotency-Key"] == "ord-c-1"
    assert contract.idempotency_key(contract.Order("ord-c-1", 1, "USD", "cus_x")) == "ord-c-1"


# -- declines and invalid requests ------------------------------------------------------------------


def test_a_declined_card_is_declined_with_the_reason_and_stays_declined(provider):
    with pytest.raises(app.PaymentDeclined) as first:
        app.handler(order(customerId="cus_card_declined"), None)
    provider.configure(decline_customers=[])  # the saved answer stands: a key gets one outcome

    with pytest.raises(app.PaymentDeclined) as again:
        app.handler(order(customerId="cus_card_declined"), None)

    assert str(first.value) in ("card_declined", "generic_decline")
    assert str(again.value) == str(first.value)
    assert provider.charges == {}


def test_a_customer_the_provider_does_not_know_is_an_invalid_order(provider):
    with pytest.raises(app.InvalidOrder, match="customer"):
        app.handler(order(customerId="cus_malformed"), None)

    assert provider.charges == {}


# -- failures that count against the breaker --------------------------------------------------------


@pytest.mark.parametrize("mode", ["down", "ratelimited"])
def test_an_unavailable_provider_is_unavailable(provider, mode):
    provider.configure(mode=mode)

    with pytest.raises(app.PaymentServiceUnavailable, match=r"HTTP (503|429)"):
        app.handler(order(), None)


def test_a_rejected_api_key_is_unavailable(provider):
    provider.require_api_key("sk_test_right")
    try:
        with pytest.raises(app.PaymentServiceUnavailable, match="401"):
            app.handler(order(), None)
    finally:
        provider.require_api_key(None)


def test_a_provider_slower_than_the_timeout_is_unavailable(provider, monkeypatch):
    monkeypatch.setenv(app.TIMEOUT_ENV, "0.2")
    provider.configure(mode="slow", delay_seconds=0.6)

    with pytest.raises(app.PaymentServiceUnavailable, match="timed out"):
        app.handler(order(orderId="ord-c-slow"), None)


# -- answers given to the adapter directly ----------------------------------------------------------


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return contract.ProviderResponse(status, {k.lower(): v for k, v in (headers or {}).items()}, data)


def error_body(dialect: Dialect) -> dict[str, Any]:
    return dialect.unavailable()[1]


@pytest.mark.parametrize("status", [408, 409, 424, 429, 500, 502, 503, 504, 401, 403, 404])
def test_every_other_refusal_is_unavailable(adapter_name, status):
    with pytest.raises(contract.PaymentServiceUnavailable, match=str(status)):
        app.adapter(adapter_name).charge_id(answer(status, error_body(DIALECT_OF[adapter_name])))


@pytest.mark.parametrize("body", [b"", b"<html>oops</html>", b'{"id": "x"', b"[]"])
def test_a_success_status_with_an_unreadable_body_is_unavailable(adapter_name, body):
    with pytest.raises(contract.PaymentServiceUnavailable):
        app.adapter(adapter_name).charge_id(answer(200, body))


def test_a_success_status_without_a_charge_taken_is_unavailable(adapter_name):
    dialect = DIALECT_OF[adapter_name]
    charge = {
        "id": dialect.new_charge_id(),
        "status": "processing",
        "amount": 1,
        "currency": "USD",
        "customer": "c",
        "orderId": "o",
        "latestCharge": "ch_1",
        "created": 0,
    }

    with pytest.raises(contract.PaymentServiceUnavailable, match="succeeded"):
        app.adapter(adapter_name).charge_id(answer(*dialect.charged(charge)))


def test_a_402_without_a_body_is_a_decline(adapter_name):
    with pytest.raises(contract.PaymentDeclined, match="card_declined"):
        app.adapter(adapter_name).charge_id(answer(402, b""))


def test_a_malformed_request_is_an_invalid_order_naming_the_problem(adapter_name):
    status, body = DIALECT_OF[adapter_name].invalid(Problem("amount must be a positive integer", "amount"))

    with pytest.raises(contract.InvalidOrder, match="amount"):
        app.adapter(adapter_name).charge_id(answer(status, body))


def test_an_adapter_that_fails_outside_the_contract_is_reported_unavailable(provider, monkeypatch):
    def broken(response: Any) -> str:
        raise KeyError("id")

    monkeypatch.setattr(app.adapter(), "charge_id", broken)

    with pytest.raises(app.PaymentServiceUnavailable, match="KeyError"):
        app.handler(order(), None)


def test_an_unknown_adapter_name_is_unavailable_and_named(monkeypatch):
    monkeypatch.setenv(app.API_URL_ENV, "http://127.0.0.1:9")
    monkeypatch.setenv(app.PROVIDER_ENV, "adyen")

    with pytest.raises(app.PaymentServiceUnavailable, match="PAYMENT_PROVIDER=adyen"):
        app.handler(order(), None)


# -- each adapter's request -------------------------------------------------------------------------


def test_the_stripe_request_creates_and_confirms_a_payment_intent_off_session():
    ordered = contract.Order("ord-9", 1999, "USD", "cus_123")

    request = app.adapter("stripe").charge_request(ordered, "ord-9", "sk_test_x")

    assert request.path == "/v1/payment_intents"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Authorization"] == "Bearer sk_test_x"
    assert request.body.decode() == (
        "amount=1999&currency=usd&customer=cus_123&confirm=true&off_session=true&metadata%5BorderId%5D=ord-9"
    )


def test_the_generic_request_posts_json_to_charges():
    ordered = contract.Order("ord-9", 1999, "USD", "cus_123")

    request = app.adapter("generic").charge_request(ordered, "ord-9", None)

    assert request.path == "/charges"
    assert "Authorization" not in request.headers
    assert json.loads(request.body) == {
        "amount": 1999,
        "currency": "USD",
        "customer": "cus_123",
        "metadata": {"orderId": "ord-9"},
    }
