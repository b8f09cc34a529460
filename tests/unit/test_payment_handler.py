"""Unit tests for the payment Lambda handler (``functions/payment/app.py``).

Sections:

1. against the FakeProvider (the local stack's provider, in-process on 127.0.0.1)
2. against a stub HTTP server answering one configurable status/body/headers
3. connection failures and configuration
4. invalid events (never reach the provider)
5. the Lambda context's remaining time
6. unreadable or stalled answers, and slow error bodies

Every socket is on 127.0.0.1; the only deliberate waiting is the slow-provider case.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from breakwater.local.provider import FakeProvider
from tests.function_modules import load

PROJECT = Path(__file__).resolve().parents[2]


app = load("payment", "payment_app")
PaymentServiceUnavailable: type[Exception] = app.PaymentServiceUnavailable
PaymentDeclined: type[Exception] = app.PaymentDeclined
InvalidOrder: type[Exception] = app.InvalidOrder

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def order(**overrides: Any) -> dict[str, Any]:
    """A valid order event; keyword arguments replace (or add) fields."""
    event: dict[str, Any] = {"orderId": "ord-1001", "amount": 4250, "currency": "EUR", "customerId": "cus_ok"}
    event.update(overrides)
    return event


def order_without(name: str) -> dict[str, Any]:
    event = order()
    del event[name]
    return event


@dataclass
class FakeContext:
    """The one method of the Lambda context object the handler uses."""

    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(autouse=True)
def _payment_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy (sockets stay on 127.0.0.1), no inherited URL, a short default timeout."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(app.API_URL_ENV, raising=False)
    monkeypatch.setenv(app.TIMEOUT_ENV, "2")


# -- 1. against the FakeProvider ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _shared_provider() -> Iterator[FakeProvider]:
    """One provider per module: stopping one costs half a second (the server's poll interval)."""
    provider = FakeProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def fake_provider(_shared_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """The shared provider, healthy and empty, as PAYMENT_API_URL."""
    _shared_provider.reset()
    monkeypatch.setenv(app.API_URL_ENV, _shared_provider.url)
    yield _shared_provider
    _shared_provider.reset()


@pytest.fixture
def slow_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    """A provider of its own that answers after 1 s: its late charge cannot leak into another test."""
    provider = FakeProvider()
    monkeypatch.setenv(app.API_URL_ENV, provider.start())
    provider.configure(mode="slow", delay_seconds=1)
    yield provider
    provider.stop()


def test_healthy_charge_returns_succeeded_charge_id(fake_provider: FakeProvider) -> None:
    result = app.handler(order(), None)

    assert result["status"] == "succeeded"
    assert result["chargeId"].startswith("ch_")
    assert result == {"chargeId": fake_provider.charges["ord-1001"]["id"], "status": "succeeded"}


def test_idempotency_key_is_the_order_id(fake_provider: FakeProvider) -> None:
    app.handler(order(orderId="ord-idem-7"), None)

    assert list(fake_provider.charges) == ["ord-idem-7"]
    assert fake_provider.charges["ord-idem-7"]["idempotencyKey"] == "ord-idem-7"


def test_charge_carries_amount_currency_and_customer(fake_provider: FakeProvider) -> None:
    app.handler(order(amount=999, currency="USD", customerId="cus_abc"), None)

    charge = fake_provider.charges["ord-1001"]
    assert (charge["amount"], charge["currency"], charge["customer"]) == (999, "USD", "cus_abc")


def test_repeated_order_returns_same_charge_and_charges_once(fake_provider: FakeProvider) -> None:
    first = app.handler(order(), None)
    second = app.handler(order(), None)

    assert second == first
    assert len(fake_provider.calls) == 2
    assert len(fake_provider.charges) == 1


def test_provider_down_is_unavailable(fake_provider: FakeProvider) -> None:
    fake_provider.configure(mode="down")

    with pytest.raises(PaymentServiceUnavailable, match="503"):
        app.handler(order(), None)
    assert fake_provider.charges == {}


def test_rate_limited_is_unavailable_and_mentions_retry_after(fake_provider: FakeProvider) -> None:
    fake_provider.configure(mode="ratelimited", retry_after_seconds=17)

    with pytest.raises(PaymentServiceUnavailable, match="429") as caught:
        app.handler(order(), None)
    assert "retry after 17s" in str(caught.value)


def test_slow_provider_times_out_within_configured_timeout(
    slow_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(app.TIMEOUT_ENV, "0.3")

    started = time.monotonic()
    with pytest.raises(PaymentServiceUnavailable, match="timed out"):
        app.handler(order(), None)
    assert time.monotonic() - started < 0.9  # gave up before the provider answered


def test_declined_customer_is_declined_with_reason(fake_provider: FakeProvider) -> None:
    with pytest.raises(PaymentDeclined, match=r"^card_declined$"):
        app.handler(order(customerId="cus_card_declined"), None)
    assert fake_provider.charges == {}


def test_customer_the_provider_rejects_is_invalid_order(fake_provider: FakeProvider) -> None:
    with pytest.raises(InvalidOrder, match="customer is not a valid customer id"):
        app.handler(order(customerId="cus_malformed"), None)
    assert [call.status for call in fake_provider.calls] == [422]


# -- 2. against a stub HTTP server -------------------------------------------------------------------------


@dataclass
class StubAnswer:
    """What the stub answers to every POST."""

    status: int = 200
    body: bytes = b'{"id": "ch_stub", "status": "succeeded"}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    raw: bytes | None = None  # written verbatim instead of a well-formed answer
    hold: bool = False  # after answering, keep the connection open until the test ends


@dataclass
class Received:
    method: str
    target: str  # as sent on the request line (http.server rewrites a leading "//" in .path)
    headers: dict[str, str]
    body: bytes


class StubServer:
    """A ThreadingHTTPServer on 127.0.0.1:0 that records requests and answers ``self.answer``."""

    def __init__(self) -> None:
        self.answer = StubAnswer()
        self.received: list[Received] = []
        self._released = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                """Quiet."""

            def do_POST(self) -> None:
                stub._serve(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="stub-provider", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def respond(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer ``status``; ``body`` as bytes verbatim, anything else as JSON."""
        data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        self.answer = StubAnswer(status=status, body=data, headers=headers or {"Content-Type": "application/json"})

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        target = request.requestline.split()[1]
        self.received.append(Received(request.command, target, dict(request.headers), body))
        answer = self.answer
        if answer.raw is not None:
            request.wfile.write(answer.raw)
        else:
            request.send_response(answer.status)
            for name, value in answer.headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(answer.body)))
            request.end_headers()
            request.wfile.write(answer.body)
        request.wfile.flush()
        if answer.hold:
            self._released.wait(timeout=10)  # released by stop(); never a sleep
        request.close_connection = True

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubServer]:
    server = StubServer()
    monkeypatch.setenv(app.API_URL_ENV, server.start())
    yield server
    server.stop()


def test_stub_receives_post_to_charges_with_headers_and_payload(stub: StubServer) -> None:
    app.handler(order(orderId="ord-42", amount=100, currency="GBP", customerId="cus_x"), None)

    [request] = stub.received
    assert (request.method, request.target) == ("POST", "/charges")
    assert request.headers["Idempotency-Key"] == "ord-42"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "amount": 100,
        "currency": "GBP",
        "customer": "cus_x",
        "metadata": {"orderId": "ord-42"},
    }


def test_trailing_slash_in_api_url_is_ignored(stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(app.API_URL_ENV, stub.url + "/")

    assert app.handler(order(), None) == {"chargeId": "ch_stub", "status": "succeeded"}
    assert [r.target for r in stub.received] == ["/charges"]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_transient_statuses_are_unavailable(stub: StubServer, status: int) -> None:
    stub.respond(status, {"error": {"type": "api_error", "message": "try later"}})

    with pytest.raises(PaymentServiceUnavailable, match=f"HTTP {status}"):
        app.handler(order(), None)


def test_retry_after_header_from_stub_is_reported(stub: StubServer) -> None:
    stub.respond(429, {}, headers={"Content-Type": "application/json", "Retry-After": "42"})

    with pytest.raises(PaymentServiceUnavailable, match="retry after 42s"):
        app.handler(order(), None)


@pytest.mark.parametrize("status", [400, 422])
def test_malformed_request_statuses_are_invalid_order(stub: StubServer, status: int) -> None:
    stub.respond(status, {"error": {"type": "invalid_request_error", "message": "currency is odd"}})

    with pytest.raises(InvalidOrder, match="currency is odd"):
        app.handler(order(), None)


def test_invalid_order_without_message_names_the_status(stub: StubServer) -> None:
    stub.respond(400, b"")

    with pytest.raises(InvalidOrder, match="HTTP 400"):
        app.handler(order(), None)


def test_402_is_declined(stub: StubServer) -> None:
    stub.respond(402, {"error": {"type": "card_error", "code": "insufficient_funds"}})

    with pytest.raises(PaymentDeclined, match=r"^insufficient_funds$"):
        app.handler(order(), None)


def test_402_without_a_reason_is_declined_as_card_declined(stub: StubServer) -> None:
    stub.respond(402, b"")

    with pytest.raises(PaymentDeclined, match=r"^card_declined$"):
        app.handler(order(), None)


def test_other_4xx_with_card_error_body_is_declined(stub: StubServer) -> None:
    stub.respond(404, {"error": {"type": "card_error", "code": "expired_card"}})

    with pytest.raises(PaymentDeclined, match=r"^expired_card$"):
        app.handler(order(), None)


def test_401_without_card_error_is_unavailable(stub: StubServer) -> None:
    stub.respond(401, {"error": {"type": "authentication_error", "message": "bad key"}})

    with pytest.raises(PaymentServiceUnavailable, match="HTTP 401"):
        app.handler(order(), None)


def test_200_with_non_json_body_is_unavailable(stub: StubServer) -> None:
    stub.respond(200, b"<html>gateway says hi</html>", headers={"Content-Type": "text/html"})

    with pytest.raises(PaymentServiceUnavailable, match="without a succeeded charge"):
        app.handler(order(), None)


def test_200_with_pending_charge_is_unavailable(stub: StubServer) -> None:
    stub.respond(200, {"id": "ch_pending", "status": "pending"})

    with pytest.raises(PaymentServiceUnavailable, match="without a succeeded charge"):
        app.handler(order(), None)


# -- 3. connection failures and configuration --------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_unavailable(monkeypatch: pytest.MonkeyPatch, closed_port: int) -> None:
    monkeypatch.setenv(app.API_URL_ENV, f"http://127.0.0.1:{closed_port}")

    with pytest.raises(PaymentServiceUnavailable, match="unreachable"):
        app.handler(order(), None)


def test_missing_api_url_is_unavailable() -> None:
    with pytest.raises(PaymentServiceUnavailable, match=app.API_URL_ENV):
        app.handler(order(), None)


@pytest.mark.parametrize("value", ["", "/", "127.0.0.1:8080", "file:///etc/passwd"])
def test_empty_or_non_http_api_url_is_unavailable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(app.API_URL_ENV, value)

    with pytest.raises(PaymentServiceUnavailable, match=app.API_URL_ENV):
        app.handler(order(), None)


# -- 4. invalid events -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "field_name"),
    [
        pytest.param(["not", "a", "dict"], "event", id="not-a-dict"),
        pytest.param(None, "event", id="none"),
        pytest.param(order_without("orderId"), "orderId", id="missing-orderId"),
        pytest.param(order(orderId=""), "orderId", id="empty-orderId"),
        pytest.param(order(orderId=1001), "orderId", id="int-orderId"),
        pytest.param(order_without("amount"), "amount", id="missing-amount"),
        pytest.param(order(amount=0), "amount", id="amount-zero"),
        pytest.param(order(amount=-5), "amount", id="amount-negative"),
        pytest.param(order(amount="12"), "amount", id="amount-string"),
        pytest.param(order(amount=True), "amount", id="amount-bool"),
        pytest.param(order(amount=12.5), "amount", id="amount-fraction"),
        pytest.param(order_without("currency"), "currency", id="missing-currency"),
        pytest.param(order_without("customerId"), "customerId", id="missing-customerId"),
    ],
)
def test_invalid_event_names_the_field_and_never_calls_provider(
    fake_provider: FakeProvider, event: Any, field_name: str
) -> None:
    with pytest.raises(InvalidOrder, match=f"^{field_name}: "):
        app.handler(event, None)
    assert fake_provider.calls == []


def test_whole_float_amount_is_sent_as_integer(stub: StubServer) -> None:
    app.handler(order(amount=1200.0), None)

    assert json.loads(stub.received[0].body)["amount"] == 1200
    assert isinstance(json.loads(stub.received[0].body)["amount"], int)


# -- 5. the Lambda context's remaining time ----------------------------------------------------------------


def test_too_little_time_left_is_unavailable_without_calling_provider(fake_provider: FakeProvider) -> None:
    with pytest.raises(PaymentServiceUnavailable, match="no time left"):
        app.handler(order(), FakeContext(remaining_ms=100))
    assert fake_provider.calls == []


def test_remaining_time_bounds_the_timeout(slow_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(app.TIMEOUT_ENV, "10")

    # 550 ms left - 250 ms safety margin = 0.3 s, well under the configured 10 s.
    with pytest.raises(PaymentServiceUnavailable, match=r"timed out after 0\.3s"):
        app.handler(order(), FakeContext(remaining_ms=550))


def test_configured_timeout_applies_when_plenty_of_time_is_left(
    slow_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(app.TIMEOUT_ENV, "0.3")

    with pytest.raises(PaymentServiceUnavailable, match=r"timed out after 0\.3s"):
        app.handler(order(), FakeContext(remaining_ms=60_000))


def test_plenty_of_time_left_charges_normally(fake_provider: FakeProvider) -> None:
    result = app.handler(order(), FakeContext(remaining_ms=60_000))

    assert result["chargeId"] == fake_provider.charges["ord-1001"]["id"]


# -- 6. unreadable or stalled answers ---------------------------------------------------------------
# The module docstring promises PaymentServiceUnavailable for "an unreadable answer": that
# covers http.client errors (not OSError subclasses) and a timeout while reading an error body.


def test_truncated_success_body_is_unavailable(stub: StubServer) -> None:
    stub.answer = StubAnswer(raw=b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"id":')

    with pytest.raises(PaymentServiceUnavailable):
        app.handler(order(), None)


def test_garbage_status_line_is_unavailable(stub: StubServer) -> None:
    stub.answer = StubAnswer(raw=b"garbage\r\n\r\n")

    with pytest.raises(PaymentServiceUnavailable):
        app.handler(order(), None)


def test_error_body_slower_than_timeout_is_unavailable(stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(app.TIMEOUT_ENV, "0.3")
    # Headers promise 10 body bytes that never come until the test ends.
    stub.answer = StubAnswer(raw=b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\n\r\n", hold=True)

    with pytest.raises(PaymentServiceUnavailable, match="timed out"):
        app.handler(order(), None)


def test_a_log_line_never_carries_an_earlier_orders_id(fake_provider: FakeProvider) -> None:
    import io

    app.handler(order(orderId="ord-earlier"), None)
    stream = io.StringIO()
    previous = app.logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        with pytest.raises(app.InvalidOrder):
            app.handler({"amount": 5}, None)  # fails before it has an order id of its own
    finally:
        app.logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]

    (finished,) = [json.loads(line) for line in stream.getvalue().splitlines() if "payment call finished" in line]
    assert finished["outcome"] == "InvalidOrder"
    assert "orderId" not in finished


# -- 7. the workflow's slow-call limit (slowCallMs) ----------------------------------------------------------


def test_success_slower_than_the_slow_call_limit_raises_slow_call_with_the_charge_id(
    slow_provider: FakeProvider,
) -> None:
    with pytest.raises(app.SlowCall) as caught:
        app.handler(order(orderId="ord-slow-1", slowCallMs=300), None)

    assert str(caught.value) == slow_provider.charges["ord-slow-1"]["id"]
    assert len(slow_provider.calls) == 1  # charged once: the error only reports how long it took


def test_success_within_the_slow_call_limit_is_a_plain_charge(fake_provider: FakeProvider) -> None:
    result = app.handler(order(slowCallMs=1500), None)

    assert result == {"chargeId": fake_provider.charges["ord-1001"]["id"], "status": "succeeded"}


def test_without_a_slow_call_limit_a_slow_success_is_a_plain_charge(slow_provider: FakeProvider) -> None:
    result = app.handler(order(orderId="ord-slow-2"), None)

    assert result["chargeId"] == slow_provider.charges["ord-slow-2"]["id"]


def test_a_slow_failure_stays_the_failure_it_is(slow_provider: FakeProvider) -> None:
    slow_provider.configure(mode="slow", delay_seconds=1)
    with pytest.raises(app.PaymentDeclined):
        app.handler(order(orderId="ord-slow-3", customerId="cus_card_declined", slowCallMs=300), None)


@pytest.mark.parametrize("limit", [0, -5, "500", True, float("nan")])
def test_a_slow_call_limit_that_is_not_a_positive_number_is_refused(fake_provider: FakeProvider, limit: Any) -> None:
    with pytest.raises(InvalidOrder, match="slowCallMs"):
        app.handler(order(slowCallMs=limit), None)
    assert fake_provider.calls == []
