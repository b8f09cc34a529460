"""Run a Lambda handler in-process, the way the Lambda service reports it.

The local stack has no Docker, so a function's handler runs in a thread of this
process. What the workflow can observe is kept faithful:

* the template's ``Handler``, ``Environment`` and ``Timeout`` are honoured;
* an exception comes back as ``{"errorType": <class name>, "errorMessage": ...,
  "stackTrace": [...]}`` with the function-error flag set, so a Step Functions
  Catch on ``PaymentServiceUnavailable`` matches exactly as on AWS;
* a handler still running at ``Timeout`` is reported as ``Sandbox.Timedout``
  (``Task timed out after N seconds``), as current Lambda runtimes do.

Environment variables are process-wide, so invocations whose environments
differ take turns, while invocations with the same environment (the common
case: many executions calling one function) run concurrently.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from breakwater.errors import HandlerError

Handler = Callable[[Any, Any], Any]

TIMEOUT_ERROR = "Sandbox.Timedout"
_CODE_CACHE = Path(os.environ.get("BREAKWATER_CODE_CACHE", Path.home() / ".cache" / "breakwater" / "code"))


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


@dataclass(frozen=True)
class InvocationResult:
    """A handler's outcome, in the shapes the Lambda Invoke API returns."""

    payload: Any
    error_type: str | None = None
    duration_ms: float = 0.0
    logs: str = ""

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    def payload_bytes(self) -> bytes:
        return json.dumps(self.payload).encode()


class LambdaContext:
    """The subset of the Lambda context object that handlers use."""

    def __init__(self, spec: FunctionSpec, deadline: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "breakwater-local"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _EnvironmentLease:
    """Lets invocations share os.environ when they need the same variables."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._current: dict[str, str] | None = None
        self._saved: dict[str, str | None] = {}
        self._holders = 0

    @contextlib.contextmanager
    def hold(self, variables: Mapping[str, str]) -> Iterator[None]:
        wanted = {str(k): str(v) for k, v in variables.items()}
        with self._cond:
            while self._holders and self._current != wanted:
                self._cond.wait()
            if not self._holders:
                self._saved = {k: os.environ.get(k) for k in wanted}
                os.environ.update(wanted)
                self._current = wanted
            self._holders += 1
        try:
            yield
        finally:
            with self._cond:
                self._holders -= 1
                if not self._holders:
                    for key, old in self._saved.items():
                        if old is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = old
                    self._current = None
                    self._cond.notify_all()


class _ThreadRoutedStream(io.TextIOBase):
    """sys.stdout/sys.stderr stand-in: a handler's prints go to its invocation's log, as on Lambda."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def write(self, text: str) -> int:
        buffer = getattr(_CAPTURE, "buffer", None)
        if buffer is not None:
            buffer.append(text)
            return len(text)
        return int(self.original.write(text))

    def flush(self) -> None:
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


_CAPTURE = threading.local()
_STREAMS_LOCK = threading.Lock()


def _route_output() -> None:
    with _STREAMS_LOCK:
        if not isinstance(sys.stdout, _ThreadRoutedStream):
            sys.stdout = _ThreadRoutedStream(sys.stdout)
        if not isinstance(sys.stderr, _ThreadRoutedStream):
            sys.stderr = _ThreadRoutedStream(sys.stderr)


_LEASE = _EnvironmentLease()
_MODULES: dict[tuple[str, str], ModuleType] = {}
_MODULES_LOCK = threading.Lock()


def load_handler(code_dir: Path, handler: str) -> Handler:
    """Import ``module.function`` from ``code_dir`` once, as a warm container would."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name or not function_name:
        raise HandlerError(f"handler {handler!r} must look like 'module.function'")
    source = code_dir / (module_name.replace(".", "/") + ".py")
    if not source.is_file():
        raise HandlerError(f"handler module {source} does not exist")
    key = (str(code_dir.resolve()), module_name)
    with _MODULES_LOCK:
        module = _MODULES.get(key)
        if module is None:
            digest = hashlib.sha256(key[0].encode()).hexdigest()[:10]
            spec = importlib.util.spec_from_file_location(f"_bw_fn_{digest}_{module_name}", source)
            if spec is None or spec.loader is None:
                raise HandlerError(f"cannot load {source}")
            module = importlib.util.module_from_spec(spec)
            if str(code_dir) not in sys.path:
                sys.path.append(str(code_dir))
            spec.loader.exec_module(module)
            _MODULES[key] = module
    function = getattr(module, function_name, None)
    if not callable(function):
        raise HandlerError(f"{source} has no function {function_name!r}")
    return function  # type: ignore[no-any-return]


def code_dir_for_zip(code: bytes) -> Path:
    """Unpack a deployment package once and return its folder."""
    digest = hashlib.sha256(code).hexdigest()[:16]
    target = _CODE_CACHE / digest
    if not target.is_dir():
        staging = _CODE_CACHE / f".{digest}.{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        with contextlib.suppress(OSError):  # another thread unpacked it first
            staging.rename(target)
    return target


def _error_payload(exc: BaseException) -> dict[str, Any]:
    # The handler's own frames, as Lambda shows them (not this runtime's wrapper).
    frames = traceback.format_tb(exc.__traceback__)
    frames = [f for f in frames if __file__ not in f] or frames
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "requestId": "",
        "stackTrace": [line.rstrip("\n") for line in frames],
    }


def invoke(spec: FunctionSpec, event: Any) -> InvocationResult:
    """Run the handler of ``spec`` on ``event`` with the function's timeout."""
    _route_output()  # before loading: a handler's logger binds sys.stdout when its module loads
    handler = load_handler(spec.code_dir, spec.handler)
    started = time.monotonic()
    deadline = started + spec.timeout_seconds
    outcome: dict[str, Any] = {}
    log: list[str] = []

    def run() -> None:
        _CAPTURE.buffer = log
        try:
            with _LEASE.hold(spec.environment):
                outcome["result"] = handler(event, LambdaContext(spec, deadline))
        except BaseException as exc:  # the runtime reports every exception, as Lambda does
            outcome["error"] = exc
        finally:
            _CAPTURE.buffer = None

    worker = threading.Thread(target=run, name=f"lambda-{spec.name}", daemon=True)
    worker.start()
    worker.join(spec.timeout_seconds)
    elapsed = (time.monotonic() - started) * 1000
    if worker.is_alive():
        seconds = f"{spec.timeout_seconds:g}"
        return InvocationResult(
            payload={"errorType": TIMEOUT_ERROR, "errorMessage": f"Task timed out after {seconds} seconds"},
            error_type=TIMEOUT_ERROR,
            duration_ms=elapsed,
            logs="".join(log),
        )
    if "error" in outcome:
        payload = _error_payload(outcome["error"])
        return InvocationResult(
            payload=payload, error_type=payload["errorType"], duration_ms=elapsed, logs="".join(log)
        )
    return InvocationResult(payload=outcome.get("result"), duration_ms=elapsed, logs="".join(log))


_REMOTE_ENDPOINT: str | None = None


def route_invocations_to(endpoint: str | None) -> None:
    """Send every Lambda invoke of the local stack to ``endpoint`` (e.g. ``sam local start-lambda``); None: run here."""
    global _REMOTE_ENDPOINT
    _REMOTE_ENDPOINT = endpoint


def shutdown() -> None:
    """Stop every execution environment this runtime started."""
