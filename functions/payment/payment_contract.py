"""The contract between the workflow and a payment provider adapter: errors, the order, the adapter interface.

The workflow invokes the payment function with an order; the function (``app.py``) owns everything the
workflow relies on: it checks the order, derives the idempotency key, bounds the call by a timeout, times
it for the slow-call rule, makes the HTTP exchange and reports the outcome as one of the error names below.
An adapter (``adapter_<name>.py``, one module exposing ``ADAPTER``) knows one provider's API and nothing
else: how to write the charge request, and what the provider's answer means. It never sleeps, retries or
opens a socket; it is pure, and ``tests/unit/test_provider_contract.py`` runs every adapter through the same
cases against the fake provider.

================================  ==========================================  =================================
raised (the error name)           meaning                                     what the workflow does
================================  ==========================================  =================================
``PaymentServiceUnavailable``     the provider could not take the charge now  a breaker failure; the order is
                                  (unreachable, timeout, 5xx, 429, 408, 409,  queued (``call_failed``)
                                  an unreadable or unexpected answer, a
                                  rejected API key)
``PaymentDeclined``               a business refusal (a card decline): the    status ``declined``; not a
                                  message is the provider's reason code       breaker failure
``InvalidOrder``                  the provider refused the request itself:    Fail ``InvalidOrder``; not a
                                  malformed, or an idempotency key reused     breaker failure
                                  with other parameters
``SlowCall`` (the function's      charged, slower than ``slowCallMs``; the    status ``charged``,
own, never an adapter's)          message is the charge id                    ``"slow": true``; a failure
================================  ==========================================  =================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


class PaymentError(Exception):
    """Base class of the errors the payment function raises to the workflow (the class name is the error name)."""


class PaymentServiceUnavailable(PaymentError):
    """The provider could not be reached or could not take the charge now: a breaker failure."""


class PaymentDeclined(PaymentError):
    """The provider refused the charge (a business outcome); the message is the provider's reason code."""


class InvalidOrder(PaymentError):
    """The order or the request is malformed, or its idempotency key was used with other parameters."""


class SlowCall(PaymentError):
    """The charge succeeded but took longer than the event's ``slowCallMs``; the message is the chargeId."""


@dataclass(frozen=True)
class Order:
    """One order, as the workflow validated it (``amount`` in minor units, ``currency`` upper-case ISO 4217)."""

    order_id: str
    amount: int
    currency: str
    customer_id: str


def idempotency_key(order: Order) -> str:
    """The key every attempt to charge ``order`` sends: its ``orderId``, unchanged.

    Derived from the order id alone, so the first call, a retry by the caller, and every replay of a queued
    order send the same key, and a provider charges the order at most once. Nothing else of the order is in
    it on purpose: an order id sent again with another amount, currency or customer must be refused by the
    provider as a reuse of the key (``InvalidOrder``), never charged a second time.
    """
    return order.order_id


@dataclass(frozen=True)
class ProviderRequest:
    """An HTTP POST an adapter asks for: ``path`` is appended to ``PAYMENT_API_URL``."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class ProviderResponse:
    """The provider's answer: status, headers (names in lower case) and body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; ``{}`` for anything else (an empty, truncated or HTML body)."""
        try:
            data = json.loads(self.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class ProviderAdapter(Protocol):
    """One provider's API. The function calls ``charge_request``, makes the POST, then ``charge_id``."""

    name: str
    """The value of the ``PaymentProvider`` template parameter that selects this adapter."""

    def charge_request(self, order: Order, key: str, api_key: str | None) -> ProviderRequest:
        """The POST that charges ``order`` once under idempotency ``key`` (``api_key``: None when none is set)."""
        ...

    def charge_id(self, response: ProviderResponse) -> str:
        """The provider's id of the charge the answer reports as taken; otherwise raise the contract's error."""
        ...
