"""One execution environment: a process of its own running ``lambda_bootstrap.py``, initialised once, then warm."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import struct
import subprocess
import time
import uuid
from typing import Any

from breakwater.local.runtime.spec import (
    BOOTSTRAP,
    TIMEOUT_ERROR,
    FunctionSpec,
    InvocationResult,
    interpreter_of,
    runtime_variables,
)
from breakwater.local.runtime.zygote import ForkedProcess, Zygote, ZygoteUnavailable

INIT_TIMEOUT_SECONDS = 10.0
MAX_LOG_BYTES = 1_000_000
_HEADER = struct.Struct(">Q")


class _Stopped(Exception):
    """The environment's process ended or broke its protocol."""


def _timeout_payload(seconds: float) -> dict[str, str]:
    return {"errorType": TIMEOUT_ERROR, "errorMessage": f"Task timed out after {seconds:.2f} seconds"}


class Environment:
    """One execution environment: a bootstrap process with the function's code imported."""

    def __init__(self, spec: FunctionSpec, zygote: Zygote | None = None) -> None:
        self.spec = spec
        self.last_used = time.monotonic()
        self.zygote = zygote
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        self._read_fd, self._write_fd = parent_read, parent_write
        self._buffer = bytearray()
        self.pending_logs = ""  # the init phase's output, shown with the first invocation's log
        try:
            self.process: subprocess.Popen[bytes] | ForkedProcess = (
                zygote.fork(self._variables(), child_read, child_write)
                if zygote is not None
                else self._spawn(child_read, child_write)
            )
        except ZygoteUnavailable:
            self.zygote = None
            self.process = self._spawn(child_read, child_write)
        finally:
            os.close(child_read)
            os.close(child_write)

    def _spawn(self, child_read: int, child_write: int) -> subprocess.Popen[bytes]:
        """A fresh interpreter for this environment."""
        return subprocess.Popen(  # noqa: S603 - our own bootstrap and interpreter
            # No -B: the first environment compiles the package's modules once (into the unpacked package's
            # __pycache__), and later cold starts load the bytecode, as a package shipped with .pyc files would.
            [interpreter_of(self.spec), "-I", "-S", str(BOOTSTRAP), str(child_read), str(child_write)],
            env=self._variables(),
            pass_fds=(child_read, child_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            close_fds=True,
        )

    def _variables(self) -> dict[str, str]:
        spec = self.spec
        variables = {str(k): str(v) for k, v in spec.environment.items()}
        variables.update(runtime_variables(spec))
        variables.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "_HANDLER": spec.handler,
                "BREAKWATER_FUNCTION_ARN": spec.arn,
            }
        )
        return variables

    # -- frames ---------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        try:
            os.write(self._write_fd, _HEADER.pack(len(body)) + body)
        except OSError as exc:
            raise _Stopped(str(exc)) from None

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        """The next frame, or None when ``deadline`` (monotonic) passes first."""
        while True:
            if len(self._buffer) >= _HEADER.size:
                size = _HEADER.unpack(self._buffer[: _HEADER.size])[0]
                if len(self._buffer) >= _HEADER.size + size:
                    body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
                    del self._buffer[: _HEADER.size + size]
                    return json.loads(body)  # type: ignore[no-any-return]
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._read_fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._read_fd, 65536)
            if not chunk:
                raise _Stopped(self._exit_reason())
            self._buffer.extend(chunk)

    def _exit_reason(self) -> str:
        code = self.process.wait(timeout=5)
        stderr = self.process.stderr.read().decode(errors="replace").strip() if self.process.stderr else ""
        return f"exited with status {code}" + (f": {stderr.splitlines()[-1]}" if stderr else "")

    # -- life cycle -------------------------------------------------------------------

    def _exchange(self, message: dict[str, Any], deadline: float, logs: list[str]) -> dict[str, Any] | None:
        """Send ``message`` and collect log frames into ``logs`` until the answer; None when ``deadline`` passes."""
        self._send(message)
        size = sum(map(len, logs))
        while True:
            frame = self._receive(deadline)
            if frame is None or "log" not in frame:
                return frame
            if size < MAX_LOG_BYTES:
                logs.append(frame["log"])
                size += len(frame["log"])

    def initialise(self, now: float) -> InvocationResult | None:
        """Run the init phase; an InvocationResult when it fails (reported as the invocation's error)."""
        started = time.monotonic()
        logs: list[str] = []
        # One environment per zygote reports the libraries its init phase imported; the zygote preloads them.
        reporter = self.zygote if self.zygote is not None and self.zygote.wants_libraries() else None
        request = {"init": True, "now": now, "reportLibraries": reporter is not None}
        stopped: _Stopped | None = None
        try:
            frame = self._exchange(request, started + INIT_TIMEOUT_SECONDS, logs)
        except _Stopped as exc:
            frame, stopped = None, exc
        if reporter is not None:
            if frame is not None and "error" not in frame:
                reporter.preload(frame.get("libraries") or [])
            else:  # this one failed its init: the next environment reports instead
                reporter.libraries_not_reported()
        if stopped is not None:
            payload = {"errorType": "Runtime.ExitError", "errorMessage": f"Error: {stopped}"}
            return InvocationResult(payload, "Runtime.ExitError", (time.monotonic() - started) * 1000, "".join(logs))
        if frame is None:
            payload = {
                "errorType": TIMEOUT_ERROR,
                "errorMessage": f"Init phase did not finish in {INIT_TIMEOUT_SECONDS:.2f} seconds",
            }
            return InvocationResult(payload, TIMEOUT_ERROR, INIT_TIMEOUT_SECONDS * 1000, "".join(logs))
        if "error" in frame:
            error = frame["error"]
            elapsed = (time.monotonic() - started) * 1000
            return InvocationResult(error, str(error.get("errorType")), elapsed, "".join(logs))
        self.pending_logs = "".join(logs)
        return None

    def invoke(self, event: Any, now: float) -> InvocationResult:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        timeout = self.spec.timeout_seconds
        request = {"event": event, "requestId": request_id, "timeoutMs": int(timeout * 1000), "now": now}
        logs: list[str] = [self.pending_logs] if self.pending_logs else []
        self.pending_logs = ""
        try:
            frame = self._exchange(request, started + timeout, logs)
        except _Stopped as exc:
            payload = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {exc}"}
            return InvocationResult(payload, "Runtime.ExitError", (time.monotonic() - started) * 1000, "".join(logs))
        elapsed = (time.monotonic() - started) * 1000
        if frame is None:
            self.kill()
            return InvocationResult(_timeout_payload(timeout), TIMEOUT_ERROR, elapsed, "".join(logs))
        if "error" in frame:
            error = frame["error"]
            return InvocationResult(error, str(error.get("errorType")), elapsed, "".join(logs))
        if "bytes" in frame:
            raw = base64.b64decode(frame["bytes"])
            return InvocationResult(raw.decode("utf-8", "replace"), None, elapsed, "".join(logs), raw=raw)
        return InvocationResult(frame.get("result"), None, elapsed, "".join(logs))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._read_fd = self._write_fd = -1
        if self.process.stderr:
            self.process.stderr.close()
        if isinstance(self.process, ForkedProcess):
            self.process.close()
