"""The fake provider's control API refuses what it cannot use, naming the setting, and changes nothing then."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from breakwater.local.provider import FakeProvider


@pytest.fixture
def served() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


def control(provider: FakeProvider, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{provider.url}/_control", data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"delaySeconds": "abc"}, 'delaySeconds: must be a number of 0 or more, got "abc"'),
        ({"delaySeconds": -1}, "delaySeconds: must be a number of 0 or more, got -1"),
        ({"failureRate": 1.5}, "failureRate: must be a number from 0 to 1, got 1.5"),
        ({"failureRate": True}, "failureRate: must be a number from 0 to 1, got true"),
        ({"retryAfterSeconds": 2.5}, "retryAfterSeconds: must be an integer of 0 or more, got 2.5"),
        ({"declineCustomers": "cus_x"}, 'declineCustomers: must be a list of customer ids (strings), got "cus_x"'),
        ({"mode": 3}, "mode: must be one of healthy, down, slow, flaky, ratelimited, got 3"),
        ({"mode": "sideways"}, "mode: 'sideways' is not one of healthy, down, slow, flaky, ratelimited"),
        ({"delay": 2}, "delay: not a setting (the settings are mode, delaySeconds, failureRate"),
    ],
)
def test_a_bad_setting_is_a_400_naming_it_and_changes_nothing(served: FakeProvider, body: Any, message: str) -> None:
    before = served.stats()
    status, answer = control(served, {"mode": "down", **body} if "mode" not in body else body)
    assert status == 400
    assert answer["error"]["message"].startswith(message)
    assert served.stats() == before


def test_good_settings_are_applied(served: FakeProvider) -> None:
    status, answer = control(served, {"mode": "slow", "delaySeconds": 0.5, "unavailableCustomers": ["cus_a"]})
    assert status == 200
    assert (served.settings.mode, served.settings.delay_seconds) == ("slow", 0.5)
    assert served.settings.unavailable_customers == {"cus_a"}
    assert answer["settings"]["mode"] == "slow"


@pytest.mark.parametrize(
    ("strict", "policy", "page"),
    [
        (True, "required", "required: a call without the key"),
        (False, "checked-when-sent", "checked when sent: a call without a key is charged"),
        (None, "none", "not required"),
    ],
)
def test_the_provider_page_says_what_the_key_policy_is(
    served: FakeProvider, strict: bool | None, policy: str, page: str
) -> None:
    from werkzeug.test import Client

    from breakwater.aws import Target
    from breakwater.console import ConsoleApp, Settings

    # given: local up's provider checks the key only when one is sent (strict False)
    served.require_api_key(None if strict is None else "sk_test", strict=bool(strict))
    target = Target(endpoint_url="http://127.0.0.1:1")
    app = ConsoleApp(Settings(target=target, stack_name="s", provider_url=served.url))
    # when
    answer = Client(app).get("/provider", headers={"Host": "127.0.0.1"})
    # then: the page says what the provider does, and it does it
    assert served.stats()["apiKey"] == policy
    assert page in answer.text
    charged, _, _ = served.charge("ord-k", {"amount": 1, "currency": "USD", "customer": "cus_1"}, None)
    assert (charged == 200) == (policy != "required")
