"""The in-process Lambda runtime reports results, errors and timeouts as Lambda does."""

from __future__ import annotations

import io
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest

from breakwater.errors import HandlerError
from breakwater.local import lambda_runtime
from breakwater.local.lambda_runtime import FunctionSpec, invoke


def function(tmp_path: Path, body: str, name: str = "fn", **spec: object) -> FunctionSpec:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(body))
    return FunctionSpec(name=name, handler="app.handler", code_dir=folder, **spec)  # type: ignore[arg-type]


def test_result_is_returned_as_the_payload(tmp_path):
    spec = function(tmp_path, "def handler(event, context):\n    return {'echo': event['x'] * 2}\n")

    result = invoke(spec, {"x": 21})

    assert not result.failed
    assert result.payload == {"echo": 42}


def test_exception_is_reported_by_class_name_with_message_and_trace(tmp_path):
    spec = function(
        tmp_path,
        """
        class PaymentServiceUnavailable(Exception):
            pass

        def handler(event, context):
            raise PaymentServiceUnavailable("provider answered HTTP 503")
        """,
    )

    result = invoke(spec, {})

    assert result.error_type == "PaymentServiceUnavailable"
    assert result.payload["errorType"] == "PaymentServiceUnavailable"
    assert result.payload["errorMessage"] == "provider answered HTTP 503"
    assert any("app.py" in line for line in result.payload["stackTrace"])


def test_handler_running_past_the_timeout_is_reported_as_sandbox_timeout(tmp_path):
    spec = function(
        tmp_path,
        """
        import threading
        RELEASE = threading.Event()

        def handler(event, context):
            RELEASE.wait(5)
            return "too late"
        """,
        timeout_seconds=0.2,
    )

    result = invoke(spec, {})

    assert result.error_type == "Sandbox.Timedout"
    assert result.payload["errorMessage"] == "Task timed out after 0.2 seconds"
    lambda_runtime.load_handler(spec.code_dir, "app.handler").__globals__["RELEASE"].set()


def test_context_reports_the_time_left_before_the_timeout(tmp_path):
    spec = function(
        tmp_path,
        "def handler(event, context):\n    return context.get_remaining_time_in_millis()\n",
        timeout_seconds=3,
    )

    result = invoke(spec, {})

    assert 2500 < result.payload <= 3000


def test_environment_is_set_for_the_handler_and_restored_after(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENT_API_URL", "http://outer")
    spec = function(
        tmp_path,
        "import os\ndef handler(event, context):\n    return os.environ['PAYMENT_API_URL']\n",
        environment={"PAYMENT_API_URL": "http://inner"},
    )

    result = invoke(spec, {})

    assert result.payload == "http://inner"
    import os

    assert os.environ["PAYMENT_API_URL"] == "http://outer"


def test_functions_with_different_environments_never_see_each_others_variables(tmp_path):
    body = """
    import os, time
    def handler(event, context):
        seen = []
        for _ in range(20):
            seen.append(os.environ['WHO'])
            time.sleep(0.002)
        return sorted(set(seen))
    """
    first = function(tmp_path, body, name="first", environment={"WHO": "first"})
    second = function(tmp_path, body, name="second", environment={"WHO": "second"})
    results: dict[str, object] = {}

    def call(spec: FunctionSpec) -> None:
        results[spec.name] = invoke(spec, {}).payload

    threads = [threading.Thread(target=call, args=(spec,)) for spec in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert results == {"first": ["first"], "second": ["second"]}


def test_bad_handler_strings_are_named(tmp_path):
    spec = function(tmp_path, "def handler(event, context):\n    return 1\n")

    with pytest.raises(HandlerError, match=r"module\.function"):
        lambda_runtime.load_handler(spec.code_dir, "handler")
    with pytest.raises(HandlerError, match="does not exist"):
        lambda_runtime.load_handler(spec.code_dir, "missing.handler")
    with pytest.raises(HandlerError, match="no function 'nope'"):
        lambda_runtime.load_handler(spec.code_dir, "app.nope")


def test_deployment_package_is_unpacked_once(tmp_path, monkeypatch):
    monkeypatch.setattr(lambda_runtime, "_CODE_CACHE", tmp_path / "cache")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 'zipped'\n")
    code = buffer.getvalue()

    first = lambda_runtime.code_dir_for_zip(code)
    second = lambda_runtime.code_dir_for_zip(code)

    assert first == second
    assert (first / "app.py").read_text().startswith("def handler")
    assert len(list((tmp_path / "cache").iterdir())) == 1
