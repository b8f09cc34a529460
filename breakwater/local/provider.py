"""A fake payment provider on 127.0.0.1 with faults switchable at run time.

It speaks two APIs (``provider_dialects``), one per adapter of the payment function, over one store of
charges and the same faults:

* ``POST /charges`` (``generic``, JSON) with ``Idempotency-Key``: 200 ``{"id": "ch_...", "status":
  "succeeded"}``; 402 ``{"error": {"type": "card_error", "code": "card_declined"}}`` for a declined
  customer; 400 for a malformed request (or no key), 422 for a customer it refuses as invalid
  (``cus_malformed`` by default) and for a key reused with a different body.
* ``POST /v1/payment_intents`` (``stripe``, form-encoded, as Stripe's PaymentIntents API): 200 with a
  PaymentIntent (``"id": "pi_..."``, ``"status": "succeeded"``); 402 ``card_error``; 400
  ``invalid_request_error`` (a bad parameter, an unknown customer) and 400 ``idempotency_error`` for a key
  reused with other parameters; 401 for a wrong key.

Idempotency as real providers do it: the first answer a key gets once the charge runs (a charge taken, or a
decline) is saved with the request's parameters; the same key with the same parameters gets that answer
again (``Idempotent-Replayed: true``), with other parameters it is refused. Faults and validation errors
are answered before anything runs and save nothing.

* ``GET /charges``: every charge taken. ``GET /_control``: mode and counters.
* ``POST /_control`` ``{"mode": "down", "delaySeconds": 2, "failureRate": 0.3,
  "retryAfterSeconds": 5, "declineCustomers": ["cus_x"], "unavailableCustomers": []}``: switch faults.
  A setting of the wrong type or range, or an unknown one, is a 400 naming it; nothing changes then.
* ``POST /_control/reset``: forget charges, saved keys and counters, back to healthy.

Modes: ``healthy``; ``down`` (503); ``slow`` (takes the charge at once but
answers only after ``delaySeconds``); ``flaky`` (503 for a ``failureRate`` share of calls,
seeded); ``ratelimited`` (429 with ``Retry-After``).
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from breakwater.local.provider_dialects import DIALECTS, GENERIC, Answer, ChargeRequest, Dialect, Problem

MODES = ("healthy", "down", "slow", "flaky", "ratelimited")
DEFAULT_DECLINED = frozenset({"cus_card_declined", "cus_insufficient_funds"})
DEFAULT_REJECTED = frozenset({"cus_malformed"})


@dataclass
class Call:
    """One request the provider received."""

    at: float
    order_id: str
    status: int
    mode: str
    answered_at: float = 0.0


@dataclass
class ProviderSettings:
    """The provider's switchable behaviour."""

    mode: str = "healthy"
    delay_seconds: float = 2.0
    failure_rate: float = 0.3
    retry_after_seconds: int = 5
    decline_customers: set[str] = field(default_factory=lambda: set(DEFAULT_DECLINED))
    reject_customers: set[str] = field(default_factory=lambda: set(DEFAULT_REJECTED))
    unavailable_customers: set[str] = field(default_factory=set)  # 503 for these, whatever the mode
    api_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["decline_customers"] = sorted(self.decline_customers)
        data["reject_customers"] = sorted(self.reject_customers)
        data["unavailable_customers"] = sorted(self.unavailable_customers)
        data["api_key"] = "set" if self.api_key else None  # never echo the key
        return {_camel(k): v for k, v in data.items()}


def _number(name: str, value: Any, lowest: float, highest: float = math.inf, integer: bool = False) -> float:
    """``value`` as a number from ``lowest`` to ``highest``; ValueError naming the setting otherwise."""
    kind = "an integer" if integer else "a number"
    valid = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
    if not valid or not math.isfinite(value) or not lowest <= value <= highest:
        bounds = f"from {lowest:g} to {highest:g}" if math.isfinite(highest) else f"of {lowest:g} or more"
        raise ValueError(f"{name}: must be {kind} {bounds}, got {json.dumps(value)}")
    return value  # type: ignore[no-any-return]


def _names(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name}: must be a list of customer ids (strings), got {json.dumps(value)}")
    return value


# The control API's settings: each one's checker, and the keyword of FakeProvider.configure it sets.
_CONTROL: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "mode": ("mode", lambda name, value: value),  # checked by configure, which names the modes
    "delaySeconds": ("delay_seconds", lambda name, value: _number(name, value, 0)),
    "failureRate": ("failure_rate", lambda name, value: _number(name, value, 0, 1)),
    "retryAfterSeconds": ("retry_after_seconds", lambda name, value: _number(name, value, 0, integer=True)),
    "declineCustomers": ("decline_customers", _names),
    "unavailableCustomers": ("unavailable_customers", _names),
}


def control_settings(body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_control``'s JSON body as keywords of :meth:`FakeProvider.configure`; ValueError naming the first
    setting that is unknown or of the wrong type or range (nothing is changed then)."""
    unknown = sorted(set(body) - set(_CONTROL))
    if unknown:
        raise ValueError(f"{unknown[0]}: not a setting (the settings are {', '.join(_CONTROL)})")
    if "mode" in body and not isinstance(body["mode"], str):
        raise ValueError(f"mode: must be one of {', '.join(MODES)}, got {json.dumps(body['mode'])}")
    return {keyword: check(name, body[name]) for name, (keyword, check) in _CONTROL.items() if name in body}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class FakeProvider:
    """Thread-safe provider state, served over HTTP by :meth:`start`."""

    def __init__(self, seed: int = 7) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._seed = seed
        self.settings = ProviderSettings()
        self.charges: dict[str, dict[str, Any]] = {}
        self._saved: dict[str, tuple[str, Answer]] = {}  # idempotency key -> (its request's parameters, answer)
        self.calls: list[Call] = []
        self._released = threading.Event()
        self._released.set()
        self._hold_limit = 60.0
        self._in_flight_orders: list[str] = []
        self._required_key: str | None = None
        self._strict_key = True
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------

    def configure(
        self,
        mode: str | None = None,
        delay_seconds: float | None = None,
        failure_rate: float | None = None,
        retry_after_seconds: int | None = None,
        decline_customers: Iterable[str] | None = None,
        unavailable_customers: Iterable[str] | None = None,
    ) -> None:
        """Switch behaviour; raises ValueError naming a bad setting."""
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
        if failure_rate is not None and not 0 <= failure_rate <= 1:
            raise ValueError("failureRate: must be between 0 and 1")
        if delay_seconds is not None and delay_seconds < 0:
            raise ValueError("delaySeconds: must not be negative")
        with self._lock:
            s = self.settings
            s.mode = mode if mode is not None else s.mode
            s.delay_seconds = float(delay_seconds) if delay_seconds is not None else s.delay_seconds
            s.failure_rate = float(failure_rate) if failure_rate is not None else s.failure_rate
            s.retry_after_seconds = (
                int(retry_after_seconds) if retry_after_seconds is not None else s.retry_after_seconds
            )
            if decline_customers is not None:
                s.decline_customers = set(decline_customers)
            if unavailable_customers is not None:
                s.unavailable_customers = set(unavailable_customers)

    @contextlib.contextmanager
    def holding(self, limit_seconds: float = 60.0) -> Iterator[None]:
        """Hold every charge request inside the block (answered when it ends, or after ``limit_seconds``)."""
        self._hold_limit = limit_seconds
        self._released.clear()
        try:
            yield
        finally:
            self._released.set()

    def in_flight(self) -> int:
        """Requests received and not yet answered."""
        with self._lock:
            return len(self._in_flight_orders)

    def wait_for_in_flight(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` requests are being answered (held, or slow); False after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.in_flight() < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def in_flight_orders(self) -> list[str]:
        """The order ids of the requests received and not yet answered."""
        with self._lock:
            return list(self._in_flight_orders)

    def reset(self) -> None:
        """Forget charges and counters, back to healthy (the API key requirement stays)."""
        with self._lock:
            self.settings = ProviderSettings(api_key=self._required_key)
            self.charges.clear()
            self._saved.clear()
            self.calls.clear()
            self._rng = random.Random(self._seed)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by_status: dict[str, int] = {}
            for call in self.calls:
                by_status[str(call.status)] = by_status.get(str(call.status), 0) + 1
            return {
                "settings": self.settings.to_json(),
                "apiKey": self._key_policy(),
                "calls": len(self.calls),
                "callsByStatus": by_status,
                "charges": len(self.charges),
            }

    def _key_policy(self) -> str:
        """``required`` (no key or a wrong one: 401), ``checked-when-sent`` (a call without any key is charged,
        a wrong key is refused: a lenient ``require_api_key``), or ``none``."""
        if self._required_key is None:
            return "none"
        return "required" if self._strict_key else "checked-when-sent"

    def charged_orders(self) -> list[str]:
        """The idempotency keys (the payment function sends the orderId) of every charge taken."""
        with self._lock:
            return list(self.charges)

    def calls_for(self, order_id: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.order_id == order_id]

    # -- charging ------------------------------------------------------------

    def require_api_key(self, api_key: str | None, strict: bool = True) -> None:
        """Answer 401 to calls without ``Authorization: Bearer <api_key>`` (None: no check).

        Not ``strict``: a call without any Authorization header is let through (a stack
        deployed without the secret, e.g. by ``sam deploy --config-env local``); a wrong key
        is still refused.
        """
        with self._lock:
            self.settings.api_key = api_key
            self._required_key = api_key
            self._strict_key = strict

    def charge(
        self, key: str | None, body: bytes | Any, authorization: str | None = None, path: str = GENERIC.path
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Handle one charge request (``POST`` to ``path``, in that path's dialect); returns status, headers, body.

        ``body``: the request's bytes, or for the JSON API its parsed value (sent as JSON).
        """
        arrived = time.time()
        dialect = DIALECTS[path]
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        order_id = dialect.order_id_of(raw)
        with self._lock:
            self._in_flight_orders.append(order_id)
        try:
            if not self._released.is_set():
                self._released.wait(self._hold_limit)
            required = self._required_key
            lenient = not self._strict_key and authorization is None
            if required and authorization != f"Bearer {required}" and not lenient:
                return self._answer(arrived, order_id, self.settings.mode, *dialect.unauthorized())
            return self._charge(arrived, order_id, dialect, key, raw)
        finally:
            with self._lock:
                self._in_flight_orders.remove(order_id)

    def _charge(
        self, arrived: float, order_id: str, dialect: Dialect, key: str | None, raw: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            settings = self.settings
            mode = settings.mode
            fail_flaky = mode == "flaky" and self._rng.random() < settings.failure_rate
            delay = settings.delay_seconds if mode == "slow" else 0.0
            retry_after = settings.retry_after_seconds
            rejected = set(settings.reject_customers)
            declined_customers = set(settings.decline_customers)
            unavailable_customers = set(settings.unavailable_customers)
        request = dialect.parse(raw, key)
        customer = request.customer if isinstance(request, ChargeRequest) else None
        # Faults stand in front of the API: nothing behind them runs, and nothing is saved under the key.
        if mode == "down" or fail_flaky or customer in unavailable_customers:
            return self._answer(arrived, order_id, mode, *dialect.unavailable())
        if mode == "ratelimited":
            status, body = dialect.rate_limited()
            return self._answer(arrived, order_id, mode, status, body, {"Retry-After": str(retry_after)})
        # A request that fails validation is answered, and not saved (it may be sent again, corrected).
        if isinstance(request, Problem):
            return self._answer(arrived, order_id, mode, *dialect.invalid(request))
        if request.customer in rejected:
            return self._answer(arrived, order_id, mode, *dialect.unknown_customer(request.customer))
        fingerprint = f"{dialect.path} {request.params}"
        with self._lock:
            saved = self._saved.get(key) if key else None
            if saved is None:
                answer = self._execute(dialect, key, request, declined=request.customer in declined_customers)
                if key:
                    self._saved[key] = (fingerprint, answer)
            reused = saved is not None and saved[0] != fingerprint
        if reused:
            return self._answer(arrived, order_id, mode, *dialect.key_reused(key or ""))
        replayed = saved is not None
        if saved is not None:
            answer = saved[1]
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        if delay:
            # Slow: the charge is already taken; only the answer is late (the worst case for a caller).
            time.sleep(delay)
        return self._answer(arrived, order_id, mode, answer[0], answer[1], headers)

    def _execute(self, dialect: Dialect, key: str | None, request: ChargeRequest, declined: bool) -> Answer:
        """Run the charge (the lock is held): a decline, or a charge taken; the first answer a key gets."""
        if declined:
            return dialect.declined("card_declined")
        charge = {
            "id": dialect.new_charge_id(),
            "status": "succeeded",
            "amount": request.amount,
            "currency": request.currency,
            "customer": request.customer,
            "orderId": request.order_id,
            "idempotencyKey": key,
            "api": dialect.name,
            "latestCharge": f"ch_{uuid.uuid4().hex[:24]}",
            "created": time.time(),
        }
        self.charges[key or str(charge["id"])] = charge
        return dialect.charged(charge)

    def _answer(
        self,
        arrived: float,
        order_id: str,
        mode: str,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(arrived, order_id, status, mode, answered_at=time.time()))
        return status, headers or {}, body

    # -- serving -------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("provider is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (a free port by default); returns the base URL."""
        provider = self

        class Handler(_ProviderHandler):
            owner = provider

        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-provider", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog (5) refuses connections when dozens of calls arrive at once.
    request_queue_size = 256
    # Stopping does not wait for open connections: a warm payment function keeps its connection alive, and
    # joining that request thread would wait until the environment ends.
    block_on_close = False
    daemon_threads = True


class _ProviderHandler(BaseHTTPRequestHandler):
    owner: FakeProvider
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet: the provider's calls are recorded in FakeProvider.calls."""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        # The caller may have given up (its timeout passed): that is the fault being simulated.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _raw(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    @staticmethod
    def _json(raw: bytes) -> Any:
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def do_GET(self) -> None:
        if self.path == "/charges":
            with self.owner._lock:
                charges = list(self.owner.charges.values())
            self._send(200, {"data": charges})
        elif self.path == "/_control":
            self._send(200, self.owner.stats())
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        raw = self._raw()
        if self.path in DIALECTS:
            status, headers, answer = self.owner.charge(
                self.headers.get("Idempotency-Key"), raw, self.headers.get("Authorization"), self.path
            )
            self._send(status, answer, headers)
        elif self.path == "/_control":
            body = self._json(raw)
            if not isinstance(body, dict):
                self._send(400, {"error": {"message": "body must be a JSON object"}})
                return
            try:
                self.owner.configure(**control_settings(body))
            except ValueError as exc:
                self._send(400, {"error": {"message": str(exc)}})
                return
            self._send(200, self.owner.stats())
        elif self.path == "/_control/reset":
            self.owner.reset()
            self._send(200, self.owner.stats())
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})
