"""Shared fixtures: one embedded local stack per session, a fresh stack per test."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

# Never reach a real AWS endpoint: fake credentials before anything builds a client.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)
os.environ.pop("AWS_PROFILE", None)
# The CLI sizes its tables to COLUMNS when set (a terminal's width), else 120; pytest-xdist's workers get
# COLUMNS=80. Every test process prints at the same width, so tables read the same in every test run.
os.environ.pop("COLUMNS", None)

from breakwater.local.stack import EmbeddedStack
from tests.requirements import require_all

START = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedStack]:
    with EmbeddedStack() as stack:
        yield stack


@pytest.fixture
def provider(embedded: EmbeddedStack) -> Iterator[Any]:
    # A call still running from an earlier test (its task timed out; the function runs on, as on AWS)
    # must not land in this test's counts.
    embedded.runtime.wait_idle(timeout=30)
    embedded.provider.reset()
    yield embedded.provider
    embedded.provider.reset()


class Clock:
    """Moves the time every component sees (interpreter, JSONata $millis(), handlers)."""

    def __init__(self, traveller: Any) -> None:
        self._traveller = traveller

    def advance(self, seconds: float) -> None:
        self._traveller.shift(dt.timedelta(seconds=seconds))

    def now_ms(self) -> int:
        return int(dt.datetime.now(tz=dt.UTC).timestamp() * 1000)


@pytest.fixture
def clock() -> Iterator[Clock]:
    with time_machine.travel(START, tick=True) as traveller:
        yield Clock(traveller)


def pytest_addoption(parser: pytest.Parser) -> None:
    # The one way a test reaches AWS: tests/teststate against AWS's TestState, with a named profile's credentials
    # (the fake credentials above stay for everything else). Refused in CI. docs/testing.md, "Testing with TestState".
    group = parser.getgroup("breakwater")
    group.addoption(
        "--teststate-aws",
        action="store_true",
        help="run tests/teststate against AWS's TestState API (needs --aws-profile; never in CI)",
    )
    group.addoption("--aws-profile", help="the AWS profile whose credentials --teststate-aws uses")
    group.addoption("--aws-region", default="us-east-1", help="the region --teststate-aws calls (us-east-1)")


def on_ci() -> bool:
    """Whether this runs in a CI job: ``CI`` set to anything but empty, ``0`` or ``false`` (GitHub, GitLab: ``true``).

    It guards credentials, nothing else: whether every test must run is ``BREAKWATER_REQUIRE_ALL``
    (tests/requirements.py).
    """
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def pytest_configure(config: pytest.Config) -> None:
    require_all()  # a value other than 0 or 1 is refused before any test runs
    if config.getoption("--teststate-aws"):
        if on_ci():
            raise pytest.UsageError("--teststate-aws calls AWS: it is for a developer's machine, never for CI")
        if not config.getoption("--aws-profile"):
            raise pytest.UsageError("--teststate-aws needs --aws-profile NAME (the credentials to call AWS with)")
