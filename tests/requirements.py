"""Whether every test must run: the project's own switch, ``BREAKWATER_REQUIRE_ALL=1``.

A test that needs something the machine may lack (a Docker engine, the local invoke image, Chromium and its
driver, node, curl, make) skips with the reason where it is missing. With ``BREAKWATER_REQUIRE_ALL=1`` it fails
instead, so a run that must prove everything (``.ci/run``, the GitHub workflow) cannot pass by skipping.

The switch is not read from ``CI``: GitHub Actions and GitLab set ``CI=true`` on every job, and a user's CI
without Docker or Chromium should run what it can. (``CI`` keeps one meaning here: ``--teststate-aws``, which
reaches AWS with a named profile, refuses to run where it is set; see tests/conftest.py.)
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

VARIABLE = "BREAKWATER_REQUIRE_ALL"


def require_all() -> bool:
    """True when ``BREAKWATER_REQUIRE_ALL`` is ``1``; unset, empty or ``0`` is False; anything else is refused."""
    value = os.environ.get(VARIABLE, "").strip()
    if value not in ("", "0", "1"):
        raise pytest.UsageError(
            f"{VARIABLE} must be 1 (every test must run) or 0 (skip what cannot run), not {value!r}"
        )
    return value == "1"


def unavailable(reason: str, *, allow_module_level: bool = False) -> NoReturn:
    """Skip with ``reason``; with ``BREAKWATER_REQUIRE_ALL=1`` fail instead."""
    if require_all():
        pytest.fail(f"{reason} ({VARIABLE}=1: this test must run, not be skipped)", pytrace=False)
    pytest.skip(reason, allow_module_level=allow_module_level)
