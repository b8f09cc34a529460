"""Adapter ``stripe``: Stripe's PaymentIntents API, written from Stripe's public API reference.

One call charges the order: ``POST {PAYMENT_API_URL}/v1/payment_intents`` (``PaymentApiUrl`` is
``https://api.stripe.com``), form-encoded as Stripe's API takes it::

    amount=<minor units>&currency=<lower-case ISO code>&customer=<customerId>
    &confirm=true&off_session=true&metadata[orderId]=<orderId>

with ``Authorization: Bearer <secret key>`` and ``Idempotency-Key: <orderId>``. ``confirm=true`` creates and
confirms in one request; without ``payment_method`` Stripe charges the customer's default source
(``customer.default_source``); ``off_session=true`` says the customer is not there to authenticate, so a card
that needs authentication fails with a card error (``authentication_required``) instead of waiting in
``requires_action``. The order's ``customerId`` is a Stripe Customer id (``cus_...``).

How Stripe's answers map to the contract (docs.stripe.com/api/errors, docs.stripe.com/api/idempotent_requests):

=======================================  ======================================================================
Stripe answers                           raised
=======================================  ======================================================================
200, PaymentIntent ``status`` succeeded  nothing: the chargeId is the PaymentIntent's ``id`` (``pi_...``)
200, any other status (``processing``)   ``PaymentServiceUnavailable``: no charge taken; the order is queued
402 (``card_error``: a decline)          ``PaymentDeclined``: ``decline_code``, else ``code``
400 ``idempotency_error``                ``InvalidOrder``: the key was used with other parameters
400 other (``invalid_request_error``)    ``InvalidOrder``: the message, and the parameter it names
401, 403 (the secret key)                ``PaymentServiceUnavailable``: no order can be charged until it is fixed
409 (the key in use by a request still   ``PaymentServiceUnavailable``: a later retry gets the first request's
running), 424, 429, 5xx, anything else   saved answer
=======================================  ======================================================================

Stripe saves the status and body of the first request made with a key once the endpoint starts executing,
and answers every later request with that key with them (``Idempotent-Replayed: true``), for at least 24
hours: a replay of a charged order gets its PaymentIntent back, a replay of a declined one its decline.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from payment_contract import (
    InvalidOrder,
    Order,
    PaymentDeclined,
    PaymentServiceUnavailable,
    ProviderRequest,
    ProviderResponse,
)

PATH = "/v1/payment_intents"
SUCCEEDED = "succeeded"


class StripePaymentIntents:
    """Stripe's PaymentIntents API: create and confirm one PaymentIntent per order."""

    name = "stripe"

    def charge_request(self, order: Order, key: str, api_key: str | None) -> ProviderRequest:
        form = {
            "amount": str(order.amount),
            "currency": order.currency.lower(),
            "customer": order.customer_id,
            "confirm": "true",
            "off_session": "true",
            "metadata[orderId]": order.order_id,
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Idempotency-Key": key,
        }
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return ProviderRequest(PATH, headers, urllib.parse.urlencode(form).encode())

    def charge_id(self, response: ProviderResponse) -> str:
        data = response.json()
        raw_error = data.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        status = response.status
        if status == 200:
            intent_id, intent_status = data.get("id"), data.get("status")
            if data.get("object") != "payment_intent" or not isinstance(intent_id, str):
                raise PaymentServiceUnavailable(f"provider answered {status} without a PaymentIntent")
            if intent_status != SUCCEEDED:
                raise PaymentServiceUnavailable(f"payment intent {intent_id} is {intent_status}, not succeeded")
            return intent_id
        if status == 402:
            raise PaymentDeclined(str(error.get("decline_code") or error.get("code") or "card_declined"))
        if status == 400:
            message = str(error.get("message") or "Stripe rejected the request")
            if error.get("type") == "idempotency_error":
                raise InvalidOrder(f"idempotency key reused with other parameters: {message}")
            param = f" (parameter {error['param']})" if isinstance(error.get("param"), str) else ""
            raise InvalidOrder(f"{message}{param}")
        kind = f" {error['type']}" if isinstance(error.get("type"), str) else ""
        raise PaymentServiceUnavailable(f"provider answered HTTP {status}{kind}")


ADAPTER = StripePaymentIntents()
