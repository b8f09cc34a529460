"""Tests of breakwater/local/compat/lambda_environments.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import io
import json
import zipfile

from breakwater.local import compat
from breakwater.local.compat import lambda_environments  # noqa: F401 - the module the cache test patches
from tests.workflow.helpers import order


def test_payment_function_runs_from_its_deployed_package(embedded, provider):
    stack = embedded.deploy()

    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert len(provider.calls) == 1


def test_handler_exceptions_become_error_names(embedded, provider):
    stack = embedded.deploy(FailureThreshold=2)
    provider.configure(mode="down")

    result = embedded.run(stack, order())

    failed = next(e["taskFailedEventDetails"] for e in result.events if e["type"] == "TaskFailed")
    assert failed["error"] == "PaymentServiceUnavailable"
    assert json.loads(failed["cause"])["errorType"] == "PaymentServiceUnavailable"


def test_without_the_local_runtime_nothing_is_charged(embedded, provider):
    stack = embedded.deploy()
    with compat.disabled("lambda_environments"):
        result = embedded.run(stack, order())

    assert result.output is None or result.output.get("status") != "charged"
    assert provider.calls == []


def test_a_deployment_package_is_unpacked_once(tmp_path, monkeypatch):
    monkeypatch.setattr(compat.lambda_environments, "_CODE_CACHE", tmp_path / "cache")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 'zipped'\n")
    code = buffer.getvalue()

    first = compat.code_dir_for_zip(code)
    second = compat.code_dir_for_zip(code)

    assert first == second
    assert (first / "app.py").read_text().startswith("def handler")
    assert len(list((tmp_path / "cache").iterdir())) == 1
