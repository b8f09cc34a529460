"""Cold starts forked from a build's zygote: the libraries come preloaded, nothing of a function is shared."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from breakwater.local.runtime import TIMEOUT_ERROR, FunctionSpec, Runtime
from breakwater.local.runtime import pool as lambda_runtime

RUNTIME = Runtime()  # this module's own runtime (a local stack owns one; these tests drive it bare)
invoke = RUNTIME.invoke

HANDLER = """
import os, time
import shoplib
APP_PID = os.getpid()
APP_SAW = os.environ.get("SHOP_TABLE")
CALLS = []

def handler(event, context):
    CALLS.append(1)
    shoplib.CALLS.append(1)
    time.sleep(event.get("sleep", 0))
    return {
        "calls": len(CALLS),
        "lib_calls": len(shoplib.CALLS),
        "pid": os.getpid(),
        "app_pid": APP_PID,
        "app_saw": APP_SAW,
        "lib_pid": shoplib.IMPORT_PID,
        "lib_saw": shoplib.SAW_TABLE,
        "variable": os.environ.get("SHOP_TABLE"),
    }
"""

LIBRARY = """
import os
CALLS = []
IMPORT_PID = os.getpid()
SAW_TABLE = os.environ.get("SHOP_TABLE")
"""


def built_function(tmp_path: Path, library: str = LIBRARY, **spec: Any) -> FunctionSpec:
    """A build as `sam build` leaves it: the function's module, and a library pip installed (with its RECORD)."""
    root = tmp_path / "build"
    (root / "shoplib").mkdir(parents=True)
    (root / "app.py").write_text(textwrap.dedent(HANDLER))
    (root / "shoplib" / "__init__.py").write_text(textwrap.dedent(library))
    (root / "shoplib-1.0.dist-info").mkdir()
    (root / "shoplib-1.0.dist-info" / "RECORD").write_text("shoplib/__init__.py,sha256=x,10\n")
    environment = {"SHOP_TABLE": f"orders-{tmp_path.name}"}
    return FunctionSpec(
        name=f"shop-{tmp_path.name}", handler="app.handler", code_dir=root, environment=environment, **spec
    )


def two_environments(spec: FunctionSpec) -> list[dict[str, Any]]:
    """The answers of two invocations running at once (so the second needs an environment of its own)."""
    answers: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: answers.append(invoke(spec, {"sleep": 0.5}).payload)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len({answer["pid"] for answer in answers}) == 2
    return answers


def test_a_later_cold_start_finds_the_builds_libraries_imported_and_imports_its_own_module(tmp_path):
    spec = built_function(tmp_path)
    first = invoke(spec, {}).payload

    later = next(a for a in two_environments(spec) if a["pid"] != first["pid"])

    assert first["lib_pid"] == first["pid"]  # the first environment imported everything itself
    assert later["lib_pid"] != later["pid"]  # the library came from the zygote
    assert later["app_pid"] == later["pid"]  # the function's own module: imported in its environment
    assert later["app_saw"] == later["variable"] == spec.environment["SHOP_TABLE"]


def test_the_zygote_has_none_of_the_functions_variables(tmp_path):
    spec = built_function(tmp_path)
    invoke(spec, {})

    later = next(a for a in two_environments(spec) if a["lib_pid"] != a["pid"])

    assert later["lib_saw"] is None  # imported in the zygote, which never held SHOP_TABLE
    assert later["variable"] == spec.environment["SHOP_TABLE"]


def test_environments_forked_from_one_zygote_keep_their_own_module_state(tmp_path):
    spec = built_function(tmp_path)
    first = invoke(spec, {}).payload

    answers = two_environments(spec) + two_environments(spec)

    forked = [a for a in answers if a["pid"] != first["pid"]]
    assert [(a["calls"], a["lib_calls"]) for a in forked] == [(1, 1), (2, 2)]  # a preloaded library's state too
    assert max(a["calls"] for a in answers if a["pid"] == first["pid"]) == 3


def test_a_library_that_starts_a_thread_is_not_forked_from(tmp_path):
    starts_a_thread = "import threading, time\nthreading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
    spec = built_function(tmp_path, library=LIBRARY + starts_a_thread)
    invoke(spec, {})

    answers = two_environments(spec)

    assert all(a["lib_pid"] == a["pid"] for a in answers)  # every environment imported it itself
    assert all(a["variable"] == spec.environment["SHOP_TABLE"] for a in answers)
    assert not any(str(spec.code_dir) in str(z.process.args) for z in RUNTIME.zygotes())


def test_a_forked_environment_that_exits_is_reported_with_its_status(tmp_path):
    spec = built_function(tmp_path)
    (spec.code_dir / "app.py").write_text(
        (spec.code_dir / "app.py").read_text() + "\ndef leave(event, context):\n    os._exit(3)\n"
    )
    spec = FunctionSpec(**{**spec.__dict__, "handler": "app.leave"})
    invoke(spec, {})  # the first environment ends; the zygote has the libraries by now

    result = invoke(spec, {})

    assert result.error_type == "Runtime.ExitError"
    assert "exited with status 3" in result.payload["errorMessage"]


def test_a_forked_environment_past_its_timeout_is_killed(tmp_path):
    spec = built_function(tmp_path, timeout_seconds=1.0)
    invoke(spec, {})
    answers = two_environments(spec)  # a forked environment exists now
    forked = next(a for a in answers if a["lib_pid"] != a["pid"])

    results = [invoke(spec, {"sleep": 5}) for _ in range(2)]

    assert {r.error_type for r in results} == {TIMEOUT_ERROR}
    assert forked["pid"] not in {a["pid"] for a in two_environments(spec)}


@pytest.fixture
def without_zygotes(monkeypatch):
    monkeypatch.setattr(lambda_runtime, "USE_ZYGOTES", False)


def test_with_zygotes_off_every_environment_is_a_fresh_interpreter(tmp_path, without_zygotes):
    spec = built_function(tmp_path)
    invoke(spec, {})

    answers = two_environments(spec)

    assert all(a["lib_pid"] == a["pid"] for a in answers)
    assert not any(str(spec.code_dir) in str(z.process.args) for z in RUNTIME.zygotes())
