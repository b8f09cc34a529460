"""Each function, built from its requirements.txt alone, imports and runs in a runtime that has nothing else.

As ``sam build`` does, the function's folder is copied and its ``requirements.txt``
installed into a clean directory; a fresh interpreter (``python3.13`` where
pyenv has it) then imports the handler with only that directory and the
runtime-provided packages (``functions/runtime-provided.txt``) on ``sys.path``
and runs it with each of the function's events in ``events/``. A package the
code imports but the requirements do not list fails here with its name, as it
would on AWS (``Runtime.ImportModuleError``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from breakwater.local import compat
from breakwater.local.build import build_function, runtime_dir
from breakwater.local.invoke import events_for, functions
from breakwater.local.runtime import FunctionSpec, InvocationResult, Runtime
from tests.unit.test_packaging import EXPECTED, SOURCES, TEMPLATE

RUNTIME = Runtime()  # this module's own runtime (a local stack owns one; these tests drive it bare)
invoke = RUNTIME.invoke


@pytest.fixture(scope="module")
def deployed(embedded: Any) -> Any:
    # Every function of the template, the checkout API's too (it is on only where its parameter asks for it).
    return embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")


def run_built(embedded: Any, deployed: Any, logical_id: str, code_dir: Path, event: Any, url: str) -> InvocationResult:
    """Run a build of ``logical_id`` with the environment the deployed stack gives that function."""
    lam = embedded.client("lambda")
    arn = deployed.outputs[f"{logical_id}Arn"]
    environment = lam.get_function_configuration(FunctionName=arn).get("Environment", {}).get("Variables", {})
    properties = functions(TEMPLATE)[logical_id]
    spec = FunctionSpec(
        name=f"packaging-{logical_id}-{code_dir.parent.name}",
        handler=properties["Handler"],
        code_dir=code_dir,
        runtime_dir=runtime_dir(),
        environment={**environment, "PAYMENT_API_URL": url, "AWS_ENDPOINT_URL": compat.function_endpoint()},
        timeout_seconds=30,
    )
    return invoke(spec, event)


@pytest.mark.parametrize(
    ("logical_id", "event_file"),
    [(logical_id, path) for logical_id in sorted(SOURCES) for path in events_for(logical_id)],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_the_built_function_runs_each_of_its_events(embedded, provider, deployed, tmp_path, logical_id, event_file):
    artifact = build_function(logical_id, SOURCES[logical_id], root=tmp_path)

    event = json.loads(event_file.read_text())

    result = run_built(embedded, deployed, logical_id, artifact.code_dir, event, provider.url)

    assert not str(result.error_type or "").startswith("Runtime."), result.payload
    assert result.error_type is None, result.payload
    assert EXPECTED[logical_id](result.payload), result.payload


def test_a_dependency_missing_from_requirements_fails_with_its_name(embedded, provider, deployed, tmp_path):
    # The payment function as it was packaged before: Powertools without its tracer extra (aws-xray-sdk).
    source = tmp_path / "source"
    shutil.copytree(SOURCES["PaymentFunction"], source)
    (source / "requirements.txt").write_text("aws-lambda-powertools==3.37.0\ntyping_extensions==4.16.0\n")
    artifact = build_function("PaymentFunction", source, root=tmp_path / "build")
    event = json.loads(events_for("PaymentFunction")[0].read_text())

    result = run_built(embedded, deployed, "PaymentFunction", artifact.code_dir, event, provider.url)

    assert result.error_type == "Runtime.ImportModuleError"
    assert result.payload["errorMessage"] == "Unable to import module 'app': No module named 'aws_xray_sdk'"
