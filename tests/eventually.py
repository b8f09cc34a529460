"""``eventually()``: the one way a test waits for something to happen.

The deadline catches hangs; it is wide, so that a busy machine (CI runners, laptops running other work) is
never mistaken for a failure. A wait that times out fails naming what it waited for and the last value it saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

WAIT_SECONDS = 60.0
"""How long a test waits for anything: tens of seconds, far beyond what an idle machine needs."""


def _truthy(value: object) -> bool:
    return bool(value)


def eventually(
    read: Callable[[], T],
    what: str,
    *,
    until: Callable[[T], bool] = _truthy,
    timeout: float = WAIT_SECONDS,
    interval: float = 0.02,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``read`` until ``until`` holds for its value (by default: until the value is truthy); return that value.

    ``ignoring`` names exceptions that mean "not yet" (a port that does not answer yet); the last one raised
    counts as the last value seen. After ``timeout`` seconds the test fails with ``what`` and that last value.
    """
    deadline = time.monotonic() + timeout
    last: object = "nothing (never read)"
    while True:
        try:
            value = read()
        except ignoring as error:
            last = error
        else:
            if until(value):
                return value
            last = value
        if time.monotonic() >= deadline:
            pytest.fail(f"waited {timeout:g} s for {what}; last seen: {last!r}", pytrace=False)
        time.sleep(interval)
