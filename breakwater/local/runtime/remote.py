"""Invocations sent to a Lambda endpoint instead (``sam local start-lambda``: the real runtime in Docker)."""

from __future__ import annotations

import json
import time
from typing import Any

from breakwater.local.runtime.spec import FunctionSpec, InvocationResult


def invoke_remote(endpoint: str, spec: FunctionSpec, event: Any) -> InvocationResult:
    import boto3
    from botocore.config import Config

    if not spec.logical_id:
        raise ValueError(f"function {spec.name} has no logical id to address it at {endpoint}")
    client = boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=spec.region,
        config=Config(read_timeout=spec.timeout_seconds + 60, retries={"max_attempts": 0}),
    )
    started = time.monotonic()
    # No LogType="Tail": sam local start-lambda answers it with 501 (the logs go to its own output).
    response = client.invoke(FunctionName=spec.logical_id, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    # SAM CLI 1.170 recognises an error only by the payload's exact keys, and awslambdaric 4 adds a fourth
    # (requestId): it answers 200 without X-Amz-Function-Error. The error payload's shape is the runtime's own.
    is_error_shape = isinstance(payload, dict) and {"errorType", "errorMessage"} <= set(payload)
    error = response.get("FunctionError") or ("Unhandled" if is_error_shape else None)
    error_type = str((payload or {}).get("errorType") or "Unhandled") if error else None
    return InvocationResult(payload, error_type, (time.monotonic() - started) * 1000)
