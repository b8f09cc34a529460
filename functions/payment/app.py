"""Payment function: charge one order at the payment provider, through the provider's adapter.

This module is the workflow's side of the contract (``payment_contract.py`` names it): it checks the order
the workflow sends, derives the idempotency key (the ``orderId``: every attempt of an order sends the
same key, so a replayed order is never charged twice), bounds the provider call by a timeout that never
outlives the function, times it for the slow-call rule, makes the HTTP exchange, and turns a transport
failure into ``PaymentServiceUnavailable``. What the provider's API looks like is the adapter's business:
``adapter_<PAYMENT_PROVIDER>.py`` (``generic``: a JSON ``POST /charges``; ``stripe``: Stripe's
PaymentIntents API) writes the request and reads the answer. See docs/bring-your-own-provider.md.

On success it returns ``{"chargeId": <the provider's id>, "status": "succeeded"}``. Otherwise it raises
one of the contract's errors; Step Functions reports the class name as the error name, and the workflow
catches each by name:

=============================  =======================================  ====================
raised                         when                                     breaker failure?
=============================  =======================================  ====================
``PaymentServiceUnavailable``  connection error, timeout, HTTP 5xx,     yes
                               429, 408, 409, an unreadable answer,
                               or any other refusal that is not the
                               order's
``PaymentDeclined``            a card decline (HTTP 402, or a card      no (status declined)
                               error); the message is the reason
``InvalidOrder``               the order is malformed: the provider     no (Fail InvalidOrder)
                               refused the request (or the key reused
                               with other parameters), or an event
                               without the order fields
``SlowCall``                   the charge succeeded, but took longer    yes (status charged,
                               than the event's ``slowCallMs``; the     ``"slow": true``)
                               message is the chargeId
=============================  =======================================  ====================

The workflow sends ``slowCallMs`` (a positive integer) only for CLOSED
calls when ``SlowCallSeconds`` > 0; the provider request is timed here, so a
slow success reaches the workflow as its own error name, which no Retry
matches, and the healthy path needs no extra state to tell it apart.
"""

from __future__ import annotations

import http.client
import importlib
import math
import os
import re
import socket
import time
import urllib.error
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from payment_contract import (
    InvalidOrder,
    Order,
    PaymentDeclined,
    PaymentError,
    PaymentServiceUnavailable,
    ProviderAdapter,
    ProviderResponse,
    SlowCall,
    idempotency_key,
)

__all__ = [
    "InvalidOrder",
    "PaymentDeclined",
    "PaymentError",
    "PaymentServiceUnavailable",
    "SlowCall",
    "adapter",
    "handler",
]

SERVICE = "breakwater-payment"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
NAMESPACE_ENV = "METRICS_NAMESPACE"
# Only for a handler run outside a stack (a unit test); tests/template/test_namespace.py pins it to the template's.
DEFAULT_METRICS_NAMESPACE = "Breakwater"

API_URL_ENV = "PAYMENT_API_URL"
TIMEOUT_ENV = "PAYMENT_TIMEOUT_SECONDS"
API_KEY_SECRET_ENV = "PAYMENT_API_KEY_SECRET_ARN"  # noqa: S105 - a variable name
PROVIDER_ENV = "PAYMENT_PROVIDER"  # the PaymentProvider parameter: which adapter_<name>.py speaks to the provider
# Only for a handler run outside a stack (a unit test); tests/template pins it to the template's default.
DEFAULT_PROVIDER = "generic"
# The API key is read from Secrets Manager once per container and refreshed after this long.
API_KEY_TTL_SECONDS = 300.0
DEFAULT_TIMEOUT_SECONDS = 10.0
# Leave the runtime this much time to report an error before the function times out.
SAFETY_MARGIN_SECONDS = 0.25
ORDER_FIELDS = ("orderId", "amount", "currency", "customerId")
# Set by the workflow (SlowCallSeconds > 0, CLOSED calls only): a success slower than this raises SlowCall.
SLOW_CALL_FIELD = "slowCallMs"
ORDER_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ADAPTER_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


_api_keys: dict[str, tuple[str, float]] = {}
_clients: dict[str, Any] = {}
_adapters: dict[str, ProviderAdapter] = {}


def _secrets_client() -> Any:
    """Secrets Manager, created once per environment (boto3 is imported only when a key is configured)."""
    if "secretsmanager" not in _clients:
        import boto3

        _clients["secretsmanager"] = boto3.client("secretsmanager")
    return _clients["secretsmanager"]


def adapter(name: str | None = None) -> ProviderAdapter:
    """The adapter ``PAYMENT_PROVIDER`` names: the module ``adapter_<name>.py`` beside this one, its ``ADAPTER``."""
    name = name or os.environ.get(PROVIDER_ENV) or DEFAULT_PROVIDER
    if name not in _adapters:
        if not ADAPTER_NAME.fullmatch(name):
            raise PaymentServiceUnavailable(f"{PROVIDER_ENV} must be an adapter name such as generic, got {name!r}")
        try:
            module = importlib.import_module(f"adapter_{name}")
        except ModuleNotFoundError as exc:
            raise PaymentServiceUnavailable(f"{PROVIDER_ENV}={name}: no module adapter_{name}.py") from exc
        _adapters[name] = module.ADAPTER
    return _adapters[name]


# In the init phase, which on Lambda has a budget of its own, not inside the first call's CallTimeoutSeconds:
# importing boto3 and creating a client can take longer than a short call timeout on a cold environment.
if os.environ.get(API_KEY_SECRET_ENV):
    _secrets_client()


def handler(event: Any, context: Any) -> dict[str, str]:
    """Charge the order in ``event``; see the module docstring for the error contract."""
    # This invocation's keys only: an earlier order's id never labels a later invocation's log lines
    # (a warm environment, or concurrent in-process invocations locally, each on its own thread).
    logger.thread_safe_clear_keys()
    try:
        result = _charge(event, context)
    except PaymentError as exc:
        _record(type(exc).__name__, str(exc))
        raise
    _record("Charged", result["chargeId"])
    return result


def _record(outcome: str, detail: str) -> None:
    """One structured log line and one PaymentCalls metric per invocation (the key never appears)."""
    # single_metric: no state shared between invocations (the outcome dimension belongs to this call only).
    with single_metric(
        name="PaymentCalls",
        unit=MetricUnit.Count,
        value=1,
        namespace=os.environ.get(NAMESPACE_ENV) or DEFAULT_METRICS_NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="outcome", value=outcome)
    log = logger.info if outcome in ("Charged", "PaymentDeclined") else logger.warning
    log("payment call finished", extra={"outcome": outcome, "detail": detail})


def _charge(event: Any, context: Any) -> dict[str, str]:
    order = _order_from(event)
    logger.thread_safe_append_keys(orderId=order.order_id, serviceName=event.get("serviceName"))
    url = os.environ.get(API_URL_ENV, "").rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise PaymentServiceUnavailable(f"{API_URL_ENV} must be an http(s) URL, got {url!r}")
    slow_call_ms = _slow_call_ms(event)
    provider = adapter()
    timeout, api_key = _timeout(context), _api_key()
    request = provider.charge_request(order, idempotency_key(order), api_key)
    started = time.monotonic()
    response = _post(url + request.path, request.headers, request.body, timeout)
    elapsed_ms = (time.monotonic() - started) * 1000
    charge_id = _charge_id(provider, response)
    if slow_call_ms is not None and elapsed_ms > slow_call_ms:
        logger.thread_safe_append_keys(elapsedMs=round(elapsed_ms), slowCallMs=slow_call_ms)
        raise SlowCall(charge_id)
    return {"chargeId": charge_id, "status": "succeeded"}


def _charge_id(provider: ProviderAdapter, response: ProviderResponse) -> str:
    """The adapter's reading of the answer; an adapter that fails otherwise than by the contract is unavailable."""
    try:
        charge_id = provider.charge_id(response)
    except PaymentError:
        raise
    except Exception as exc:  # a bug in an adapter must still reach the workflow as a contract error
        raise PaymentServiceUnavailable(f"adapter {provider.name} failed on HTTP {response.status}: {exc!r}") from exc
    if not isinstance(charge_id, str) or not charge_id:
        raise PaymentServiceUnavailable(f"adapter {provider.name} returned no charge id for HTTP {response.status}")
    return charge_id


def _slow_call_ms(event: dict[str, Any]) -> int | None:
    """The workflow's slow-call limit for this call (``slowCallMs``), or None when slow calls are not counted."""
    value = event.get(SLOW_CALL_FIELD)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise InvalidOrder(f"{SLOW_CALL_FIELD}: must be a positive number of milliseconds")
    return int(value)


def _api_key() -> str | None:
    """The provider's API key from Secrets Manager (cached); None when no secret is configured."""
    secret = os.environ.get(API_KEY_SECRET_ENV, "")
    if not secret:
        return None
    cached = _api_keys.get(secret)
    if cached and time.monotonic() - cached[1] < API_KEY_TTL_SECONDS:
        return cached[0]
    try:
        value = _secrets_client().get_secret_value(SecretId=secret)["SecretString"]
    except Exception as exc:  # any failure to read the key means the provider cannot be called
        raise PaymentServiceUnavailable(f"cannot read the provider API key: {type(exc).__name__}") from exc
    _api_keys[secret] = (value, time.monotonic())
    return str(value)


def _order_from(event: Any) -> Order:
    if not isinstance(event, dict):
        raise InvalidOrder("event: must be a JSON object holding the order")
    missing = [name for name in ORDER_FIELDS if name not in event]
    if missing:
        raise InvalidOrder(f"{missing[0]}: is required")
    if not isinstance(event["orderId"], str) or not ORDER_ID.fullmatch(event["orderId"]):
        raise InvalidOrder("orderId: must be a string of 1 to 128 characters from A-Z a-z 0-9 . _ : -")
    amount = event["amount"]
    if (
        isinstance(amount, bool)
        or not isinstance(amount, int | float)
        or not math.isfinite(amount)
        or amount != int(amount)
        or amount < 1
    ):
        raise InvalidOrder("amount: must be a positive whole number of minor units")
    return Order(
        order_id=event["orderId"],
        amount=int(amount),
        currency=str(event["currency"]),
        customer_id=str(event["customerId"]),
    )


def _timeout(context: Any) -> float:
    raw = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_SECONDS))
    try:
        configured = float(raw)
    except ValueError:
        configured = math.nan
    if not configured > 0:
        raise PaymentServiceUnavailable(f"{TIMEOUT_ENV} must be a positive number of seconds, got {raw!r}")
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        return configured
    left = remaining_ms() / 1000 - SAFETY_MARGIN_SECONDS
    if left <= 0:
        raise PaymentServiceUnavailable("no time left to call the provider")
    return min(configured, left)


@tracer.capture_method(capture_response=False)
def _post(url: str, headers: dict[str, str], body: bytes, timeout: float) -> ProviderResponse:
    """One POST with ``timeout``; a transport failure is ``PaymentServiceUnavailable``, any answer is returned."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - http(s) checked
    try:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL from config
                return ProviderResponse(response.status, _lower(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return ProviderResponse(exc.code, _lower(exc.headers or {}), exc.read() or b"")
    except TimeoutError as exc:
        raise PaymentServiceUnavailable(f"provider timed out after {timeout:.1f}s") from exc
    except http.client.HTTPException as exc:  # BadStatusLine, IncompleteRead, ...
        raise PaymentServiceUnavailable(f"provider sent an unreadable answer: {type(exc).__name__}") from exc
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError | socket.timeout):
            raise PaymentServiceUnavailable(f"provider timed out after {timeout:.1f}s") from exc
        raise PaymentServiceUnavailable(f"provider unreachable: {reason}") from exc


def _lower(headers: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in headers.items()}
