"""The compatibility patches' tests run on the session's embedded stack (tests/conftest.py)."""

from __future__ import annotations

import pytest

from breakwater.aws import Stack
from breakwater.local.stack import EmbeddedStack


@pytest.fixture(scope="module")
def stack(embedded: EmbeddedStack) -> Stack:
    """The project's stack, deployed once for the module's tests."""
    return embedded.deploy()
