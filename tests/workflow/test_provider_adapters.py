"""The PaymentProvider parameter picks the adapter the deployed payment function speaks through."""

from __future__ import annotations

from tests.workflow.helpers import order


def test_payment_provider_picks_the_api_the_charge_goes_through(embedded, provider):
    stripe = embedded.deploy(PaymentProvider="stripe")
    generic = embedded.deploy()

    through_stripe = embedded.run(stripe, order(orderId="ord-via-stripe")).output
    through_generic = embedded.run(generic, order(orderId="ord-via-generic")).output

    assert through_stripe["chargeId"].startswith("pi_")  # a PaymentIntent, from POST /v1/payment_intents
    assert through_generic["chargeId"].startswith("ch_")
    assert {key: charge["api"] for key, charge in provider.charges.items()} == {
        "ord-via-stripe": "stripe",
        "ord-via-generic": "generic",
    }


def test_through_stripe_a_declined_card_and_a_reused_key_are_told_apart(embedded, provider):
    stack = embedded.deploy(PaymentProvider="stripe")
    embedded.run(stack, order(orderId="ord-s-1", amount=500))

    declined = embedded.run(stack, order(customerId="cus_card_declined"))
    reused = embedded.run(stack, order(orderId="ord-s-1", amount=501))

    assert (declined.output["status"], declined.output["reason"]) == ("declined", "generic_decline")
    assert (reused.status, reused.error) == ("FAILED", "InvalidOrder")
    assert "Keys for idempotent requests can only be used with the same parameters" in reused.cause
