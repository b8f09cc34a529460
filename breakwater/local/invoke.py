"""``breakwater invoke``: run one function's handler as ``sam local invoke`` does, without Docker.

The function is built as ``sam build`` builds it (``breakwater.local.build``)
and runs in an execution environment of its own (``local.runtime``): its
handler, environment and timeout from ``template.yaml``, its own code and
dependencies only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from breakwater.errors import FunctionNotFound, TemplateError
from breakwater.local.build import build_function, runtime_dir
from breakwater.local.runtime import FunctionSpec, InvocationResult, Runtime
from breakwater.template import PROJECT_ROOT, check_overrides, functions, load_template, parameters

EVENTS_DIR = PROJECT_ROOT / "events"
FUNCTION_SUFFIX = "Function"


def event_prefix(logical_id: str) -> str:
    """The file-name prefix of a function's sample events: ``PaymentFunction`` -> ``payment-``."""
    return logical_id.removesuffix(FUNCTION_SUFFIX).lower() + "-"


def events_for(logical_id: str, folder: Path = EVENTS_DIR) -> list[Path]:
    """One function's sample events, ``events/<prefix>*.json``, for ``breakwater invoke`` and ``sam local invoke``."""
    return sorted(folder.glob(f"{event_prefix(logical_id)}*.json"))


def _resolve(value: Any, values: dict[str, str], where: str, missing: list[str]) -> str:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        if name not in values:
            missing.append(f"{where} refers to {name}, which has no value here (give it with --env-vars)")
            return ""
        return values[name]
    if isinstance(value, dict | list):
        raise TemplateError(f"{where}: only plain values and Ref can be resolved locally, not {json.dumps(value)}")
    return str(value)


def function_spec(
    name: str,
    template: dict[str, Any] | None = None,
    overrides: dict[str, str] | None = None,
    env_vars: dict[str, Any] | None = None,
    root: Path = PROJECT_ROOT,
) -> tuple[FunctionSpec, list[str]]:
    """Build function ``name`` as ``sam build`` does and describe it for the runtime; returns (spec, warnings)."""
    template = template if template is not None else load_template()
    available = functions(template)
    if name not in available:
        raise FunctionNotFound(f"no function {name!r} in the template (functions: {', '.join(sorted(available))})")
    props = available[name]
    values = {k: p.default for k, p in parameters(template).items() if p.default is not None}
    values.update(check_overrides(overrides or {}, template))
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    values.setdefault("AWS::Region", region)
    warnings: list[str] = []
    environment = {
        key: _resolve(value, values, f"{name} environment {key}", warnings)
        for key, value in ((props.get("Environment") or {}).get("Variables") or {}).items()
    }
    # --env-vars, as sam local invoke reads it: "Parameters" for every function, then per function.
    env_vars = env_vars or {}
    for scope in ("Parameters", name):
        extra = env_vars.get(scope) or {}
        if not isinstance(extra, dict):
            raise TemplateError(f"--env-vars: {scope} must map variable names to values")
        environment.update({str(k): str(v) for k, v in extra.items()})
    # The handler's own AWS calls go where this shell's would (AWS_ENDPOINT_URL: a local stack), as with sam local.
    if os.environ.get("AWS_ENDPOINT_URL"):
        environment.setdefault("AWS_ENDPOINT_URL", os.environ["AWS_ENDPOINT_URL"])
    timeout = float(_resolve(props.get("Timeout", 3), values, f"{name} Timeout", warnings) or 3)
    code_uri = props.get("CodeUri")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{name}: CodeUri must be a local folder to invoke locally")
    artifact = build_function(name, (root / code_uri).resolve())
    spec = FunctionSpec(
        name=name,
        handler=str(props.get("Handler")),
        code_dir=artifact.code_dir,
        environment=environment,
        timeout_seconds=timeout,
        memory_mb=int(props.get("MemorySize", 128)),
        arn=f"arn:aws:lambda:{region}:123456789012:function:{name}",
        runtime_dir=runtime_dir(),
        logical_id=name,
        region=region,
    )
    return spec, warnings


def run(spec: FunctionSpec, event: Any) -> InvocationResult:
    """One invocation in an environment of its own runtime, stopped once it has answered."""
    runtime = Runtime()
    try:
        return runtime.invoke(spec, event)
    finally:
        runtime.shutdown()
