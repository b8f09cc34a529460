"""What a function is to the runtime (:class:`FunctionSpec`), how its interpreter starts, and what an
invocation answers (:class:`InvocationResult`)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT_ERROR = "Sandbox.Timedout"
BOOTSTRAP = Path(__file__).resolve().parent.parent / "lambda_bootstrap.py"
# Variables the Lambda service gives every function; a function's own Environment cannot override them.
_PASSED_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs to know of one function."""

    name: str
    handler: str
    code_dir: Path
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = 3.0
    memory_mb: int = 128
    arn: str = ""
    runtime_dir: Path | None = None
    logical_id: str | None = None
    region: str = "us-east-1"
    python: str | None = None
    reserved_concurrency: int | None = None  # at most this many invocations at once; past it Lambda throttles

    def key(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.handler,
            str(self.code_dir),
            tuple(sorted(self.environment.items())),
            self.memory_mb,
            str(self.runtime_dir),
            self.python,
            self.region,
        )


@dataclass(frozen=True)
class InvocationResult:
    """A handler's outcome, in the shapes the Lambda Invoke API returns."""

    payload: Any
    error_type: str | None = None
    duration_ms: float = 0.0
    logs: str = ""
    raw: bytes | None = None
    """What a handler that returned ``bytes`` returned: the payload as it is, not JSON."""

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    def payload_bytes(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.payload).encode()


class ReservedConcurrencyExceeded(Exception):
    """An invocation past the function's reserved concurrency: Lambda throttles it (nothing runs)."""


def interpreter_of(spec: FunctionSpec) -> str:
    from breakwater.local.build import runtime_python

    return spec.python or runtime_python()


def runtime_variables(spec: FunctionSpec) -> dict[str, str]:
    """The variables every environment of a runtime has, whatever the function: what a zygote starts with."""
    variables = {k: os.environ[k] for k in _PASSED_CREDENTIALS if k in os.environ}
    variables.update(
        {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            # As under `sam local invoke`: Powertools' Tracer stays off (no X-Ray daemon here).
            "AWS_SAM_LOCAL": "true",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "LAMBDA_RUNTIME_DIR": str(spec.runtime_dir or spec.code_dir),
        }
    )
    return variables
