"""Adapter ``generic``: a JSON charge API (``POST {PAYMENT_API_URL}/charges``), the shape the fake provider serves.

Request: ``{"amount", "currency", "customer", "metadata": {"orderId"}}`` as JSON, ``Idempotency-Key``, and
``Authorization: Bearer <key>`` when a key is set. Answers, following the IETF draft "The Idempotency-Key HTTP
Header Field" (draft-ietf-httpapi-idempotency-key-header) for the idempotency cases:

* 2xx with ``{"id": ..., "status": "succeeded"}``: charged; anything else in a 2xx is not a charge taken;
* 402, or any 4xx whose body is ``{"error": {"type": "card_error"}}``: declined (``code``/``decline_code``);
* 400 (malformed, or the key missing) and 422 (unprocessable, or the key reused with another body): invalid;
* 408, 409 (a request with the same key still in progress), 429, 5xx and every other answer: unavailable.
"""

from __future__ import annotations

import json
from typing import Any

from payment_contract import (
    InvalidOrder,
    Order,
    PaymentDeclined,
    PaymentServiceUnavailable,
    ProviderRequest,
    ProviderResponse,
)

INVALID_STATUSES = frozenset({400, 422})


class GenericJson:
    """A JSON charge API with an Idempotency-Key header."""

    name = "generic"

    def charge_request(self, order: Order, key: str, api_key: str | None) -> ProviderRequest:
        payload = {
            "amount": order.amount,
            "currency": order.currency,
            "customer": order.customer_id,
            "metadata": {"orderId": order.order_id},
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": key}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return ProviderRequest("/charges", headers, json.dumps(payload).encode())

    def charge_id(self, response: ProviderResponse) -> str:
        data = response.json()
        raw_error = data.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        status = response.status
        if 200 <= status < 300:
            charge_id = data.get("id")
            if not isinstance(charge_id, str) or data.get("status") != "succeeded":
                raise PaymentServiceUnavailable(f"provider answered {status} without a succeeded charge")
            return charge_id
        if status == 402 or (400 <= status < 500 and error.get("type") == "card_error"):
            raise PaymentDeclined(str(error.get("code") or error.get("decline_code") or "card_declined"))
        if status in INVALID_STATUSES:
            raise InvalidOrder(str(error.get("message") or f"provider rejected the request with HTTP {status}"))
        retry_after = response.header("Retry-After")
        hint = f", retry after {retry_after}s" if retry_after and status in (408, 429, 503) else ""
        raise PaymentServiceUnavailable(f"provider answered HTTP {status}{hint}")


ADAPTER = GenericJson()
