"""The bootstrap of one local Lambda execution environment: a fresh interpreter, the function's own code only.

``breakwater.local.lambda_runtime`` starts this file as a script with the
runtime's Python (``python -I -S lambda_bootstrap.py IN OUT``), in the
function's own environment variables. It imports nothing but the standard
library, and it puts on ``sys.path`` only what a Lambda environment has: the
task root (the built function: its code and its requirements) and the runtime
folder (what the managed runtime provides), then the standard library. So a
handler that imports a package its build does not contain fails here exactly
as on AWS: ``Runtime.ImportModuleError: Unable to import module 'app': No
module named ...``.

It talks to its runtime over two inherited file descriptors with frames of an
8-byte big-endian length and a JSON document:

* in: ``{"event": ..., "requestId": ..., "timeoutMs": ..., "now": <epoch s>}``
  per invocation;
* out: ``{"log": text}`` whenever the handler writes to stdout or stderr, then
  ``{"result": ...}`` or ``{"error": {"errorType", "errorMessage", ...}}``.

The first frame is ``{"init": true, "now": ...}``: the handler module is
imported (the init phase) and the answer is ``{"ready": true}`` or the init
error, after which the process ends. The module is kept for every later
invocation: a warm environment. The runtime kills this
process when an invocation runs past the function's timeout.

``now`` is the invoking stack's wall clock. When it differs from this
process's clock by more than a second (a test has moved the clock with a
clock patch), ``time.time`` and ``time.time_ns`` are shifted by the difference
for the invocation, so the function sees the time its caller sees; otherwise
time is untouched.
"""

from __future__ import annotations

import importlib
import json
import os
import struct
import sys
import threading
import time
import traceback
from typing import Any

_HEADER = struct.Struct(">Q")
_CLOCK_TOLERANCE_SECONDS = 1.0
_real_time = time.time
_real_time_ns = time.time_ns


class _Channel:
    """Length-prefixed JSON frames over two file descriptors; writes from any thread."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        self._write_fd = write_fd
        self._lock = threading.Lock()

    def receive(self) -> dict[str, Any] | None:
        header = self._read_exactly(_HEADER.size)
        if header is None:
            return None
        body = self._read_exactly(_HEADER.unpack(header)[0])
        return None if body is None else json.loads(body)

    def _read_exactly(self, size: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self._reader.read(size - len(chunks))
            if not chunk:
                return None
            chunks.extend(chunk)
        return bytes(chunks)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        data = _HEADER.pack(len(body)) + body
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._write_fd, view)
                view = view[written:]


class _LogStream:
    """stdout/stderr of the function: every write goes to the runtime as a log frame."""

    def __init__(self, channel: _Channel, name: str) -> None:
        self._channel = channel
        self.name = name
        self.encoding = "utf-8"
        self.errors = "strict"

    def write(self, text: str) -> int:
        if text:
            self._channel.send({"log": text})
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("the function's log stream has no file descriptor")

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False


class LambdaContext:
    """The context object handlers receive (the attributes and method the Python runtime defines)."""

    def __init__(self, request_id: str, timeout_ms: int) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("BREAKWATER_FUNCTION_ARN", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _Fault(Exception):
    """An error the runtime itself reports (``Runtime.*``), not the handler."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.trace = trace or []


def _own_frames(tb: Any) -> list[str]:
    """The stack trace as Lambda shows it: the function's frames, not this bootstrap's."""
    frames = [frame for frame in traceback.extract_tb(tb) if frame.filename != __file__]
    return [line.rstrip("\n") for line in traceback.format_list(frames)]


def _error(exc: BaseException, request_id: str) -> dict[str, Any]:
    if isinstance(exc, _Fault):
        return {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": request_id, "stackTrace": exc.trace}
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": _own_frames(exc.__traceback__),
    }


def _load_handler(handler: str) -> Any:
    """Import ``module.function`` as the Python runtime does, with its error names."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name or not function_name:
        raise _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values to unpack")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise _Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace) from None
    function = getattr(module, function_name, None)
    if function is None:
        raise _Fault("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


def _set_clock(now: float | None) -> None:
    offset = 0.0 if now is None else now - _real_time()
    if abs(offset) <= _CLOCK_TOLERANCE_SECONDS:
        time.time, time.time_ns = _real_time, _real_time_ns
        return
    time.time = lambda: _real_time() + offset
    time.time_ns = lambda: _real_time_ns() + int(offset * 1e9)


def _restrict_path() -> None:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    runtime = os.environ["LAMBDA_RUNTIME_DIR"]
    here = os.path.dirname(os.path.abspath(__file__))
    standard = [p for p in sys.path if p and os.path.abspath(p) != here]
    sys.path[:] = [task_root, runtime, *standard]
    os.chdir(task_root)


def main(argv: list[str]) -> int:
    channel = _Channel(int(argv[1]), int(argv[2]))
    sys.stdout = _LogStream(channel, "<stdout>")  # type: ignore[assignment]
    sys.stderr = _LogStream(channel, "<stderr>")  # type: ignore[assignment]
    _restrict_path()
    handler: Any = None
    while True:
        request = channel.receive()
        if request is None:
            return 0
        request_id = str(request.get("requestId", ""))
        _set_clock(request.get("now"))
        if request.get("init"):
            try:
                handler = _load_handler(os.environ["_HANDLER"])
            except BaseException as exc:  # the init phase fails: the runtime discards this environment
                channel.send({"error": _error(exc, request_id)})
                return 1
            channel.send({"ready": True})
            continue
        try:
            result = handler(request.get("event"), LambdaContext(request_id, int(request.get("timeoutMs", 3000))))
        except BaseException as exc:  # the runtime reports every exception, as Lambda does
            channel.send({"error": _error(exc, request_id)})
            continue
        try:
            channel.send({"result": result})
        except (TypeError, ValueError) as exc:
            fault = _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}")
            channel.send({"error": _error(fault, request_id)})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
