"""The two APIs the fake provider speaks: how a charge request reads and how each answer looks.

* :data:`GENERIC`: ``POST /charges``, JSON, the shape of ``functions/payment/adapter_generic.py``; its
  idempotency errors follow the IETF draft "The Idempotency-Key HTTP Header Field"
  (draft-ietf-httpapi-idempotency-key-header): 400 without the key, 422 for a key reused with another body.
* :data:`STRIPE`: ``POST /v1/payment_intents``, form-encoded, the subset of Stripe's PaymentIntents API that
  ``functions/payment/adapter_stripe.py`` uses, with Stripe's error object (docs.stripe.com/api/errors): 402
  ``card_error`` for a decline, 400 ``invalid_request_error`` for a bad parameter, 400 ``idempotency_error``
  for a key reused with other parameters (docs.stripe.com/api/idempotent_requests), 401 for a wrong key.

A dialect only reads and writes; :class:`~breakwater.local.provider.FakeProvider` decides (faults, the
idempotency store, declines), the same way for both.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

Answer = tuple[int, dict[str, Any]]

_CURRENCY_LOWER = re.compile(r"[a-z]{3}")


@dataclass(frozen=True)
class ChargeRequest:
    """A charge request as the provider understood it, whatever the dialect."""

    order_id: str
    amount: int
    currency: str
    customer: str
    params: str
    """Every parameter of the request, canonical: what a reused idempotency key must match exactly."""


@dataclass(frozen=True)
class Problem:
    """Why a request cannot be read: the message, and the parameter it is about (if one)."""

    message: str
    param: str | None = None


class Dialect(Protocol):
    """One provider API."""

    name: str
    path: str

    def parse(self, raw: bytes, key: str | None) -> ChargeRequest | Problem: ...

    def order_id_of(self, raw: bytes) -> str: ...

    def charged(self, charge: dict[str, Any]) -> Answer: ...

    def declined(self, code: str) -> Answer: ...

    def invalid(self, problem: Problem) -> Answer: ...

    def unknown_customer(self, customer: str) -> Answer: ...

    def key_reused(self, key: str) -> Answer: ...

    def unavailable(self) -> Answer: ...

    def rate_limited(self) -> Answer: ...

    def unauthorized(self) -> Answer: ...

    def new_charge_id(self) -> str: ...


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and value >= 1 else None


class GenericJson:
    """``POST /charges`` with a JSON body ``{amount, currency, customer, metadata: {orderId}}``."""

    name = "generic"
    path = "/charges"

    def _body(self, raw: bytes) -> Any:
        try:
            return json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return None

    def order_id_of(self, raw: bytes) -> str:
        body = self._body(raw)
        metadata = body.get("metadata") if isinstance(body, dict) else None
        order_id = metadata.get("orderId") if isinstance(metadata, dict) else None
        return order_id if isinstance(order_id, str) else ""

    def parse(self, raw: bytes, key: str | None) -> ChargeRequest | Problem:
        if not key:
            return Problem("Idempotency-Key header is required")
        body = self._body(raw)
        if not isinstance(body, dict):
            return Problem("body must be a JSON object")
        raw_amount = body.get("amount")
        amount = None if isinstance(raw_amount, str) else _positive_int(raw_amount)
        if amount is None:
            return Problem("amount must be a positive integer", "amount")
        currency, customer = body.get("currency"), body.get("customer")
        if not isinstance(currency, str) or len(currency) != 3:
            return Problem("currency must be a 3-letter code", "currency")
        if not isinstance(customer, str) or not customer:
            return Problem("customer is required", "customer")
        return ChargeRequest(self.order_id_of(raw), amount, currency, customer, json.dumps(body, sort_keys=True))

    def charged(self, charge: dict[str, Any]) -> Answer:
        return 200, charge

    def declined(self, code: str) -> Answer:
        return 402, {"error": {"type": "card_error", "code": code}}

    def invalid(self, problem: Problem) -> Answer:
        return 400, {"error": {"type": "invalid_request_error", "message": problem.message}}

    def unknown_customer(self, customer: str) -> Answer:
        return 422, {"error": {"type": "invalid_request_error", "message": "customer is not a valid customer id"}}

    def key_reused(self, key: str) -> Answer:
        message = f"Idempotency-Key {key} was already used with a different request body"
        return 422, {"error": {"type": "idempotency_error", "message": message}}

    def unavailable(self) -> Answer:
        return 503, {"error": {"type": "api_error", "message": "unavailable"}}

    def rate_limited(self) -> Answer:
        return 429, {"error": {"type": "rate_limit_error", "message": "too many requests"}}

    def unauthorized(self) -> Answer:
        return 401, {"error": {"type": "authentication_error", "message": "invalid API key"}}

    def new_charge_id(self) -> str:
        return f"ch_{uuid.uuid4().hex[:24]}"


class StripePaymentIntents:
    """``POST /v1/payment_intents``, form-encoded, created and confirmed at once (``confirm=true``)."""

    name = "stripe"
    path = "/v1/payment_intents"

    def _form(self, raw: bytes) -> dict[str, str]:
        try:
            return dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            return {}

    def order_id_of(self, raw: bytes) -> str:
        return self._form(raw).get("metadata[orderId]", "")

    def parse(self, raw: bytes, key: str | None) -> ChargeRequest | Problem:
        form = self._form(raw)
        if "amount" not in form:
            return Problem("Missing required param: amount.", "amount")
        amount = _positive_int(form["amount"])
        if amount is None:
            return Problem("Invalid positive integer", "amount")
        currency = form.get("currency", "")
        if not _CURRENCY_LOWER.fullmatch(currency):
            return Problem(f"Invalid currency: {currency}.", "currency")
        if not form.get("customer"):
            return Problem("This PaymentIntent requires a customer whose default source is charged.", "customer")
        if form.get("confirm") != "true":
            return Problem("The fake provider takes PaymentIntents created with confirm=true only.", "confirm")
        params = json.dumps(sorted(form.items()))
        return ChargeRequest(form.get("metadata[orderId]", ""), amount, currency.upper(), form["customer"], params)

    def charged(self, charge: dict[str, Any]) -> Answer:
        intent = {
            "id": charge["id"],
            "object": "payment_intent",
            "amount": charge["amount"],
            "currency": str(charge["currency"]).lower(),
            "customer": charge["customer"],
            "status": charge["status"],
            "latest_charge": charge["latestCharge"],
            "metadata": {"orderId": charge["orderId"]},
            "created": int(charge["created"]),
        }
        return 200, intent

    def declined(self, code: str) -> Answer:
        error = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": code if code != "card_declined" else "generic_decline",
            "message": "Your card was declined.",
        }
        return 402, {"error": error}

    def invalid(self, problem: Problem) -> Answer:
        error: dict[str, Any] = {"type": "invalid_request_error", "message": problem.message}
        if problem.param:
            error["param"] = problem.param
        return 400, {"error": error}

    def unknown_customer(self, customer: str) -> Answer:
        error = {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "customer",
            "message": f"No such customer: '{customer}'",
        }
        return 400, {"error": error}

    def key_reused(self, key: str) -> Answer:
        message = (
            "Keys for idempotent requests can only be used with the same parameters they were first used with. "
            f"Try using a key other than '{key}' if you meant to execute a different request."
        )
        return 400, {"error": {"type": "idempotency_error", "message": message}}

    def unavailable(self) -> Answer:
        return 503, {"error": {"type": "api_error", "message": "An unknown error occurred."}}

    def rate_limited(self) -> Answer:
        message = "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
        return 429, {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": message}}

    def unauthorized(self) -> Answer:
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}

    def new_charge_id(self) -> str:
        return f"pi_{uuid.uuid4().hex[:24]}"


GENERIC = GenericJson()
STRIPE = StripePaymentIntents()
DIALECTS: dict[str, Dialect] = {dialect.path: dialect for dialect in (GENERIC, STRIPE)}
"""The dialect of each charge path the provider serves."""
