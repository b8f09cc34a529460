"""Payment function: charge one order at the payment provider.

The workflow invokes this function with the order. It POSTs the charge to
``{PAYMENT_API_URL}/charges`` with ``Idempotency-Key: <orderId>`` (so a replayed
order is never charged twice) and a timeout that never outlives the function.

On success it returns ``{"chargeId": "ch_...", "status": "succeeded"}``.
Otherwise it raises one of the exceptions below; Step Functions reports the
class name as the error name, and the workflow catches each by name:

=============================  =======================================  ====================
raised                         when                                     breaker failure?
=============================  =======================================  ====================
``PaymentServiceUnavailable``  connection error, timeout, HTTP 5xx,     yes
                               429, 408, an unreadable answer, or any
                               other refusal that is not the order's
``PaymentDeclined``            HTTP 402, or a 4xx whose body is a       no (status declined)
                               card error; the message is the reason
``InvalidOrder``               the order is malformed: HTTP 400/422,    no (Fail InvalidOrder)
                               or an event without the order fields
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
import json
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

SERVICE = "breakwater-payment"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
NAMESPACE_ENV = "METRICS_NAMESPACE"
# Only for a handler run outside a stack (a unit test); tests/template/test_namespace.py pins it to the template's.
DEFAULT_METRICS_NAMESPACE = "Breakwater"

API_URL_ENV = "PAYMENT_API_URL"
TIMEOUT_ENV = "PAYMENT_TIMEOUT_SECONDS"
API_KEY_SECRET_ENV = "PAYMENT_API_KEY_SECRET_ARN"  # noqa: S105 - a variable name
# The API key is read from Secrets Manager once per container and refreshed after this long.
API_KEY_TTL_SECONDS = 300.0
DEFAULT_TIMEOUT_SECONDS = 10.0
# Leave the runtime this much time to report an error before the function times out.
SAFETY_MARGIN_SECONDS = 0.25
UNAVAILABLE_STATUSES = frozenset({408, 429})
INVALID_STATUSES = frozenset({400, 422})
ORDER_FIELDS = ("orderId", "amount", "currency", "customerId")
# Set by the workflow (SlowCallSeconds > 0, CLOSED calls only): a success slower than this raises SlowCall.
SLOW_CALL_FIELD = "slowCallMs"
ORDER_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


_api_keys: dict[str, tuple[str, float]] = {}
_clients: dict[str, Any] = {}


def _secrets_client() -> Any:
    """Secrets Manager, created once per environment (boto3 is imported only when a key is configured)."""
    if "secretsmanager" not in _clients:
        import boto3

        _clients["secretsmanager"] = boto3.client("secretsmanager")
    return _clients["secretsmanager"]


# In the init phase, which on Lambda has a budget of its own, not inside the first call's CallTimeoutSeconds:
# importing boto3 and creating a client can take longer than a short call timeout on a cold environment.
if os.environ.get(API_KEY_SECRET_ENV):
    _secrets_client()


class PaymentError(Exception):
    """Base class of the errors this function raises to the workflow."""


class PaymentServiceUnavailable(PaymentError):
    """The provider could not be reached or failed to answer: a breaker failure."""


class PaymentDeclined(PaymentError):
    """The provider refused the charge (a business outcome); the message is the reason."""


class InvalidOrder(PaymentError):
    """The order is malformed; retrying it cannot help."""


class SlowCall(PaymentError):
    """The charge succeeded but took longer than the event's ``slowCallMs``; the message is the chargeId."""


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
    logger.thread_safe_append_keys(orderId=order["orderId"], serviceName=event.get("serviceName"))
    url = os.environ.get(API_URL_ENV, "").rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise PaymentServiceUnavailable(f"{API_URL_ENV} must be an http(s) URL, got {url!r}")
    slow_call_ms = _slow_call_ms(event)
    timeout, api_key = _timeout(context), _api_key()
    started = time.monotonic()
    status, headers, body = _post_charge(f"{url}/charges", order, timeout, api_key)
    elapsed_ms = (time.monotonic() - started) * 1000
    result = _classify(status, headers, body)
    if slow_call_ms is not None and elapsed_ms > slow_call_ms:
        logger.thread_safe_append_keys(elapsedMs=round(elapsed_ms), slowCallMs=slow_call_ms)
        raise SlowCall(result["chargeId"])
    return result


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


def _order_from(event: Any) -> dict[str, Any]:
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
    return {name: event[name] for name in ORDER_FIELDS}


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
def _post_charge(
    url: str, order: dict[str, Any], timeout: float, api_key: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    payload = {
        "amount": int(order["amount"]),
        "currency": order["currency"],
        "customer": order["customerId"],
        "metadata": {"orderId": order["orderId"]},
    }
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s) in handler()
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": order["orderId"],
            **({"Authorization": f"Bearer {api_key}"} if api_key else {}),
        },
    )
    try:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL from config
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, dict(exc.headers or {}), exc.read() or b""
    except TimeoutError as exc:
        raise PaymentServiceUnavailable(f"provider timed out after {timeout:.1f}s") from exc
    except http.client.HTTPException as exc:  # BadStatusLine, IncompleteRead, ...
        raise PaymentServiceUnavailable(f"provider sent an unreadable answer: {type(exc).__name__}") from exc
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError | socket.timeout):
            raise PaymentServiceUnavailable(f"provider timed out after {timeout:.1f}s") from exc
        raise PaymentServiceUnavailable(f"provider unreachable: {reason}") from exc


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _classify(status: int, headers: dict[str, str], body: bytes) -> dict[str, str]:
    data = _json(body)
    raw_error = data.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    if 200 <= status < 300:
        charge_id = data.get("id")
        if not isinstance(charge_id, str) or data.get("status") != "succeeded":
            raise PaymentServiceUnavailable(f"provider answered {status} without a succeeded charge")
        return {"chargeId": charge_id, "status": "succeeded"}
    if status == 402 or (400 <= status < 500 and error.get("type") == "card_error"):
        raise PaymentDeclined(str(error.get("code") or error.get("decline_code") or "card_declined"))
    if status in INVALID_STATUSES:
        raise InvalidOrder(str(error.get("message") or f"provider rejected the request with HTTP {status}"))
    if status in UNAVAILABLE_STATUSES:
        retry_after = {k.lower(): v for k, v in headers.items()}.get("retry-after")
        hint = f", retry after {retry_after}s" if retry_after else ""
        raise PaymentServiceUnavailable(f"provider answered HTTP {status}{hint}")
    raise PaymentServiceUnavailable(f"provider answered HTTP {status}")
