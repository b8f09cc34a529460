"""The provider API key comes from Secrets Manager, is cached, sent as a Bearer token, never logged."""

from __future__ import annotations

import json
import uuid

import pytest

from breakwater.local import compat
from breakwater.local.build import build_function, runtime_dir
from breakwater.local.provider import FakeProvider
from breakwater.local.runtime import FunctionSpec, Runtime
from breakwater.template import PROJECT_ROOT
from tests.function_modules import load

RUNTIME = Runtime()  # this module's own runtime (a local stack owns one; these tests drive it bare)
invoke = RUNTIME.invoke

app = load("payment", "payment_app_secret")

ORDER = {"orderId": "ord-key-1", "amount": 1999, "currency": "USD", "customerId": "cus_123"}


@pytest.fixture
def keyed_provider():
    provider = FakeProvider()
    provider.start()
    provider.require_api_key("sk_test_" + uuid.uuid4().hex)
    yield provider
    provider.stop()


@pytest.fixture
def secret(embedded, keyed_provider, monkeypatch):
    arn = embedded.client("secretsmanager").create_secret(
        Name=f"provider-key-{uuid.uuid4().hex[:8]}", SecretString=keyed_provider._required_key
    )["ARN"]
    monkeypatch.setenv(app.API_URL_ENV, keyed_provider.url)
    monkeypatch.setenv(app.API_KEY_SECRET_ENV, arn)
    app._api_keys.clear()
    return arn


def test_the_key_from_secrets_manager_authorizes_the_charge(secret, keyed_provider):
    result = app.handler(dict(ORDER), None)

    assert result["chargeId"].startswith("ch_")
    assert keyed_provider.calls[0].status == 200


def test_the_function_logs_json_and_a_metric_but_never_the_key(embedded, secret, keyed_provider):
    # The built function in an execution environment of its own, as on Lambda: its logger binds its own stream.
    artifact = build_function("PaymentFunction", PROJECT_ROOT / "functions/payment")
    spec = FunctionSpec(
        name=f"PaymentFunction-{uuid.uuid4().hex[:6]}",
        handler="app.handler",
        code_dir=artifact.code_dir,
        runtime_dir=runtime_dir(),
        environment={
            "PAYMENT_API_URL": keyed_provider.url,
            "PAYMENT_API_KEY_SECRET_ARN": secret,
            "AWS_ENDPOINT_URL": compat.function_endpoint(),
        },
        timeout_seconds=10,
    )

    result = invoke(spec, {"orderId": "ord-logged", "amount": 5, "currency": "USD", "customerId": "cus_1"})

    assert result.payload["status"] == "succeeded"
    lines = [json.loads(line) for line in result.logs.splitlines() if line.startswith("{")]
    finished = next(line for line in lines if line.get("message") == "payment call finished")
    assert (finished["outcome"], finished["orderId"]) == ("Charged", "ord-logged")
    emf = next(line for line in lines if "_aws" in line)
    assert emf["PaymentCalls"] == [1.0]
    assert emf["outcome"] == "Charged"
    assert keyed_provider._required_key not in result.logs


def test_the_key_is_read_once_and_cached(embedded, secret, keyed_provider, monkeypatch):
    app.handler(dict(ORDER), None)
    embedded.client("secretsmanager").delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)

    again = app.handler({**ORDER, "orderId": "ord-key-2"}, None)

    assert again["status"] == "succeeded"


def test_an_unreadable_secret_is_a_provider_failure(embedded, keyed_provider, monkeypatch):
    monkeypatch.setenv(app.API_URL_ENV, keyed_provider.url)
    monkeypatch.setenv(app.API_KEY_SECRET_ENV, "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf")
    app._api_keys.clear()

    with pytest.raises(app.PaymentServiceUnavailable, match="cannot read the provider API key"):
        app.handler(dict(ORDER), None)
    assert keyed_provider.calls == []


def test_a_wrong_key_is_refused_by_the_provider(embedded, keyed_provider, monkeypatch):
    arn = embedded.client("secretsmanager").create_secret(
        Name=f"wrong-key-{uuid.uuid4().hex[:8]}", SecretString="sk_wrong"
    )["ARN"]
    monkeypatch.setenv(app.API_URL_ENV, keyed_provider.url)
    monkeypatch.setenv(app.API_KEY_SECRET_ENV, arn)
    app._api_keys.clear()

    with pytest.raises(app.PaymentServiceUnavailable, match="HTTP 401"):
        app.handler(dict(ORDER), None)
    assert keyed_provider.charges == {}
