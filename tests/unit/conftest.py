"""tests/unit starts no emulator and no AWS endpoint: a test here that asks for one fails, naming where it belongs.

What needs the embedded stack (moto and the patches) or ``local up``'s server lives in tests/local (the local
stack's pieces and the tools that read it), tests/compat (one module per compatibility patch) or tests/workflow
(the workflow run on the embedded stack); docs/testing.md lists the folders. A fake payment provider on 127.0.0.1
is allowed here: it is the handlers' peer, not the emulator.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from moto.core.models import MockAWS
from moto.moto_server import werkzeug_app

from breakwater.local.server import LocalServer
from breakwater.local.stack import EmbeddedStack

ELSEWHERE = "tests/local, tests/compat or tests/workflow"
EMULATOR_FIXTURES = frozenset({"embedded"})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture is set up: the session's embedded stack is never started for a unit test.
    asked = sorted(EMULATOR_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    if asked:
        names = ", ".join(asked)
        pytest.fail(f"{item.nodeid} asks for {names}: a unit test starts no emulator; move it to {ELSEWHERE}")


def _refuse(what: str) -> Any:
    def refuse(*_: Any, **__: Any) -> NoReturn:
        pytest.fail(f"a unit test started {what}: move it to {ELSEWHERE}", pytrace=False)

    return refuse


@pytest.fixture(autouse=True)
def _no_emulator_and_no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a unit test calls, it cannot start moto, the embedded stack or ``local up``'s server."""
    monkeypatch.setattr(MockAWS, "start", _refuse("moto (mock_aws)"))
    monkeypatch.setattr(EmbeddedStack, "__enter__", _refuse("the embedded stack"))
    monkeypatch.setattr(LocalServer, "start", _refuse("local up's server (LocalServer)"))
    monkeypatch.setattr(werkzeug_app, "create_backend_app", _refuse("moto's server (create_backend_app)"))
