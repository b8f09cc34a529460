"""The bootstrap of one local Lambda execution environment: a fresh interpreter, the function's own code only.

``breakwater.local.runtime`` starts this file as a script with the
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
  ``{"result": ...}`` or ``{"error": {"errorType", "errorMessage", ...}}``; a handler that returns
  ``bytes`` is answered ``{"bytes": base64}``: the Python runtime sends bytes as they are, unencoded.

The first frame is ``{"init": true, "now": ...}``: the handler module is
imported (the init phase) and the answer is ``{"ready": true}`` or the init
error, after which the process ends. The module is kept for every later
invocation: a warm environment. The runtime kills this
process when an invocation runs past the function's timeout.

**Zygote mode** (``python -I -S lambda_bootstrap.py --zygote SOCKET_FD``) makes cold starts cheap without
sharing anything between environments. One zygote runs per build; it holds only the Lambda-wide
variables (no function's own ``Environment``), the same ``sys.path``, and the *libraries* the function's
init phase imported in an earlier environment: modules of the runtime folder, of the standard library,
and of the packages its build installed (files listed in a ``*.dist-info/RECORD`` of the task root).
The function's own modules are never imported there. For each new environment the runtime sends, over
a ``SOCK_SEQPACKET`` socket, the environment's variables with its three descriptors (frames in, frames
out, stderr); the zygote forks, and the child replaces ``os.environ`` with exactly those variables,
takes the descriptors and serves as above, importing the handler in its own init phase. So a child is
the fresh interpreter above with some library modules already in memory, as a Lambda SnapStart-style
restore would have them. A library that reads a function's own variable at import time (none of this
project's do) would read it unset. The zygote answers ``{"pid": N}`` per fork, ``{"status": code}`` for
a child that ended, and refuses to preload when a preloaded module starts a thread (forking a process
with threads is unsafe): then the runtime stops using it.

``now`` is the invoking stack's wall clock. When it differs from this
process's clock by more than a second (a test has moved the clock with a
clock patch), ``time.time`` and ``time.time_ns`` are shifted by the difference
for the invocation, so the function sees the time its caller sees; otherwise
time is untouched.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import signal
import socket
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


LAMBDA_TASK_ROOT = "/var/task"
"""Where Lambda unpacks a function: the folder its stack traces name."""


def _own_frames(tb: Any) -> list[str]:
    """The stack trace as Lambda shows it: the function's frames, not this bootstrap's, each line ending in a
    newline, the task root written as Lambda's ``/var/task``.
    """
    task_root = os.path.join(os.path.abspath(os.environ.get("LAMBDA_TASK_ROOT", "")), "")
    frames = [frame for frame in traceback.extract_tb(tb) if frame.filename != __file__]
    for frame in frames:
        if task_root != os.sep and frame.filename.startswith(task_root):
            frame.filename = LAMBDA_TASK_ROOT + os.sep + frame.filename[len(task_root) :]
    return traceback.format_list(frames)


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
    standard = [p for p in sys.path if p and os.path.abspath(p) not in (here, task_root, runtime)]
    sys.path[:] = [task_root, runtime, *standard]
    os.chdir(task_root)


def _installed_files(task_root: str) -> set[str]:
    """Every file a package installed into the task root (its ``*.dist-info/RECORD``): the build's libraries."""
    files: set[str] = set()
    for entry in os.listdir(task_root):
        record = os.path.join(task_root, entry, "RECORD")
        if entry.endswith(".dist-info") and os.path.isfile(record):
            with open(record, encoding="utf-8") as lines:
                files.update(os.path.normpath(os.path.join(task_root, line.split(",", 1)[0])) for line in lines)
    return files


def _libraries_imported(before: set[str]) -> list[str]:
    """Modules imported since ``before`` that are libraries (runtime folder, standard library, installed)."""
    task_root = os.path.normpath(os.environ["LAMBDA_TASK_ROOT"])
    installed = _installed_files(task_root)
    folders = [os.path.normpath(os.environ["LAMBDA_RUNTIME_DIR"]), os.path.dirname(os.__file__)]
    roots = tuple(folder + os.sep for folder in folders if folder != task_root)
    names = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name in before or not path:
            continue
        path = os.path.normpath(path)
        if path in installed or path.startswith(roots):
            names.append(name)
    return names


def serve(read_fd: int, write_fd: int) -> int:
    """Be one execution environment: the init phase, then invocations, over the two descriptors."""
    channel = _Channel(read_fd, write_fd)
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
            before = set(sys.modules)
            try:
                handler = _load_handler(os.environ["_HANDLER"])
            except BaseException as exc:  # the init phase fails: the runtime discards this environment
                channel.send({"error": _error(exc, request_id)})
                return 1
            ready: dict[str, Any] = {"ready": True}
            if request.get("reportLibraries"):
                ready["libraries"] = _libraries_imported(before)
            channel.send(ready)
            continue
        try:
            result = handler(request.get("event"), LambdaContext(request_id, int(request.get("timeoutMs", 3000))))
        except BaseException as exc:  # the runtime reports every exception, as Lambda does
            channel.send({"error": _error(exc, request_id)})
            continue
        if isinstance(result, bytes | bytearray):  # the Python runtime passes bytes through as the payload
            channel.send({"bytes": base64.b64encode(result).decode("ascii")})
            continue
        try:
            channel.send({"result": result})
        except (TypeError, ValueError) as exc:
            fault = _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}")
            channel.send({"error": _error(fault, request_id)})


# -- zygote mode ---------------------------------------------------------------------------------------

_MAX_MESSAGE = 1 << 20


class _Zygote:
    """Forks execution environments from a process with the build's libraries already imported."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._ended: dict[int, int] = {}
        signal.signal(signal.SIGCHLD, self._reap)

    def _reap(self, *_: Any) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            if len(self._ended) > 4096:
                self._ended.clear()
            self._ended[pid] = os.waitstatus_to_exitcode(status)

    def _answer(self, message: dict[str, Any]) -> None:
        self._sock.send(json.dumps(message).encode())

    def _preload(self, names: list[str]) -> None:
        loaded = 0
        for name in names:
            try:
                importlib.import_module(name)
                loaded += 1
            except BaseException:  # noqa: S112 - a library that will not preload is imported by its environment
                continue
        if threading.active_count() > 1:  # a preloaded module started a thread: forking is no longer safe
            self._answer({"preloaded": loaded, "refused": "a preloaded module started a thread"})
            return
        self._answer({"preloaded": loaded})

    def _fork(self, variables: dict[str, str], fds: list[int]) -> None:
        read_fd, write_fd, stderr_fd = fds
        pid = os.fork()
        if pid == 0:  # the new environment
            code = 1
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                self._sock.close()
                os.dup2(stderr_fd, 2)
                os.close(stderr_fd)
                os.environ.clear()
                os.environ.update(variables)
                code = serve(read_fd, write_fd)
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        self._answer({"pid": pid})

    def run(self) -> int:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._sock, _MAX_MESSAGE, 3)
            except ConnectionResetError:
                return 0
            if not data:
                return 0
            request = json.loads(data)
            if "fork" in request and len(fds) == 3:
                self._fork(request["fork"], fds)
            elif "preload" in request:
                self._preload(request["preload"])
            elif "status" in request:
                self._answer({"status": self._ended.pop(int(request["status"]), None)})
            else:
                for fd in fds:
                    os.close(fd)
                self._answer({"error": f"unknown request {sorted(request)}"})


def main(argv: list[str]) -> int:
    if argv[1] == "--zygote":
        _restrict_path()
        return _Zygote(socket.socket(fileno=int(argv[2]))).run()
    return serve(int(argv[1]), int(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
