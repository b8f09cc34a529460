"""Patch ``lambda_environments``: Lambda needs Docker; run the deployed package (the ``sam build`` artifact) in
execution environments of its own (``local.runtime``): the function's Handler, Environment and Timeout, errors
named as Lambda names them, ``Sandbox.Timedout`` past it, and past its reserved concurrency Lambda's throttle
(``TooManyRequestsException``, ``ReservedFunctionConcurrentInvocationLimitExceeded``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

from moto.awslambda import models as lambda_models
from moto.settings import moto_server_port

from breakwater.local import runtime as lambda_runtime
from breakwater.local import services
from breakwater.local.aws_limits.errors import RESERVED_EXCEEDED, lambda_throttled
from breakwater.local.compat.base import Patch

_FUNCTION_LOG = logging.getLogger("breakwater.local.functions")


_CODE_CACHE = Path(os.environ.get("BREAKWATER_CODE_CACHE", Path.home() / ".cache" / "breakwater" / "code"))
# The local endpoint serves every API on one host: the SDK must not prefix it ("sync-" for StartSyncExecution).
LOCAL_ENDPOINT_VARIABLES = {"AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}


def function_endpoint() -> str:
    """Where the current stack's functions send their own AWS calls."""
    return services.current().function_endpoint or f"http://127.0.0.1:{moto_server_port()}"


def code_dir_for_zip(code: bytes, digest: str | None = None) -> Path:
    """Unpack a deployment package once (by its SHA-256) and return its folder: the environment's task root."""
    name = (digest or hashlib.sha256(code).hexdigest()).replace("/", "_").replace("+", "-")[:43]
    target = _CODE_CACHE / name
    if not target.is_dir():
        staging = _CODE_CACHE / f".{name}.{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        with contextlib.suppress(OSError):  # another thread unpacked it first
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def logical_id_of(fn: Any) -> str | None:
    """The logical id of the stack resource that created ``fn`` (what ``sam local start-lambda`` calls it)."""
    from moto.cloudformation.models import cloudformation_backends

    for stack in cloudformation_backends[fn.account_id][fn.region].stacks.values():
        for logical_id, resource in stack.resource_map.items():
            if getattr(resource, "function_name", None) == fn.function_name:
                return str(logical_id)
    return None


def function_spec(fn: Any) -> lambda_runtime.FunctionSpec:
    """Describe a moto Lambda function for the local runtime: its deployed package, settings and environment."""
    from breakwater.local.build import runtime_dir

    return lambda_runtime.FunctionSpec(
        name=fn.function_name,
        handler=fn.handler,
        code_dir=code_dir_for_zip(fn.code_bytes, getattr(fn, "code_sha_256", None)),
        environment={
            **LOCAL_ENDPOINT_VARIABLES,
            "AWS_ENDPOINT_URL": function_endpoint(),
            **dict(fn.environment_vars or {}),
        },
        timeout_seconds=float(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128),
        arn=fn.function_arn,
        runtime_dir=runtime_dir(),
        logical_id=logical_id_of(fn) if services.current().runtime.remote_endpoint else None,
        region=fn.region,
        reserved_concurrency=int(fn.reserved_concurrency) if fn.reserved_concurrency is not None else None,
    )


def log_tail(request_id: str, version: str, logs: str, result: lambda_runtime.InvocationResult, memory_mb: int) -> str:
    """The invocation's log as Lambda writes it: START, the function's own lines, END and REPORT."""
    billed = max(1, int(result.duration_ms + 0.999))
    return (
        f"START RequestId: {request_id} Version: {version}\n{logs}END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {result.duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {memory_mb} MB\tMax Memory Used: {memory_mb} MB\t\n"
    )


def _invoke_in_environment(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
    event = json.loads(body) if body else {}
    spec = function_spec(self)
    try:
        result = services.current().runtime.invoke(spec, event)
    except lambda_runtime.ReservedConcurrencyExceeded:
        raise lambda_throttled(RESERVED_EXCEEDED) from None
    if result.failed:
        response_headers["x-amz-function-error"] = "Unhandled"
    version = str(getattr(self, "version", None) or "$LATEST")
    response_headers["x-amz-executed-version"] = version
    # As Lambda does for RequestResponse calls: the last 4 KB of the log, base64 (moto keeps it for LogType Tail).
    tail = log_tail(str(uuid.uuid4()), version, result.logs, result, spec.memory_mb)
    response_headers["x-amz-log-result"] = base64.b64encode(tail.encode()[-4096:]).decode()
    if result.logs:
        _FUNCTION_LOG.debug("%s: %s", spec.name, result.logs.rstrip())
    return result.payload_bytes()


PATCH = Patch(
    "lambda_environments",
    "run each function from its deployed package in its own processes, errors named as Lambda names them",
    [(lambda_models.LambdaFunction, "invoke", _invoke_in_environment)],
)
