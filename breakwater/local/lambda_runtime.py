"""The local Lambda runtime: each function in its own processes, from its built artifact.

What a Lambda execution environment is, and what the workflow can observe of
it, is kept faithful:

* an environment is a process of its own (``lambda_bootstrap.py`` run by the
  runtime's Python, ``python3.13`` where pyenv has it), started with only the
  function's environment variables plus those Lambda itself sets
  (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``, ``_HANDLER``, ...), and
  with only the function's build (its code and requirements) and the
  runtime-provided packages on ``sys.path``;
* the handler module is imported once per environment (the init phase, at
  most ``INIT_TIMEOUT_SECONDS``) and the environment is reused, warm, by later
  invocations; an init failure is reported as Lambda reports it
  (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ...) and the
  environment is discarded, so the next invocation initialises again;
* an exception comes back as ``{"errorType": <class name>, "errorMessage": ...,
  "stackTrace": [...]}`` with the function-error flag set, so a Step Functions
  Catch on ``PaymentServiceUnavailable`` matches exactly as on AWS;
* an invocation still running at the function's ``Timeout`` is stopped: its
  process is killed and the invocation is reported as ``Sandbox.Timedout``
  (``Task timed out after N.00 seconds``);
* a function with reserved concurrency R runs at most R invocations at once: one
  more is refused (:class:`ReservedConcurrencyExceeded`, which the Lambda API
  answers as AWS does, ``TooManyRequestsException``); the account's own
  concurrency is enforced only with ``local.aws_limits``;
* each function has at most ``MAX_ENVIRONMENTS`` environments at once
  (``BREAKWATER_LAMBDA_MAX_ENVIRONMENTS``, default 16), or R when that is lower;
  a further concurrent invocation waits for a free one, where AWS would start
  another environment. Environments idle for ``IDLE_SECONDS``
  (``BREAKWATER_LAMBDA_IDLE_SECONDS``, default 60; AWS keeps them for minutes) are
  stopped, and at most ``MAX_TOTAL_ENVIRONMENTS`` live across all functions.

Cold starts are forked from a zygote per build (``lambda_bootstrap``'s zygote mode): a process that has
the build's *libraries* imported (learned from the first environment's init phase) but none of the
function's own modules and none of its variables. Each environment is still a process of its own with
only its variables, and still runs its own init phase (the handler module's import); it starts in about
30 ms instead of the 0.5 s that importing Powertools and the X-Ray SDK takes. ``BREAKWATER_LAMBDA_ZYGOTE=0``
starts every environment as a fresh interpreter instead.

The invoker's wall clock travels with each invocation (see
``lambda_bootstrap``), so a clock patch in a test moves the functions' clock
too. A :class:`Runtime` made with a ``remote_endpoint`` sends every invocation
instead to a Lambda endpoint such as ``sam local start-lambda`` (the real
runtime in Docker), addressed by the function's logical id.

A local stack owns its runtime (``EmbeddedStack.runtime``, ``LocalServer.runtime``) and stops its environments
when it closes; there is no runtime of the process.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import random
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT_ERROR = "Sandbox.Timedout"
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
INIT_TIMEOUT_SECONDS = 10.0
IDLE_SECONDS = float(os.environ.get("BREAKWATER_LAMBDA_IDLE_SECONDS", "60"))
MAX_ENVIRONMENTS = int(os.environ.get("BREAKWATER_LAMBDA_MAX_ENVIRONMENTS", "16"))
MAX_TOTAL_ENVIRONMENTS = 64
MAX_LOG_BYTES = 1_000_000
USE_ZYGOTES = os.environ.get("BREAKWATER_LAMBDA_ZYGOTE", "1") != "0"
ZYGOTE_ANSWER_SECONDS = 30.0
_HEADER = struct.Struct(">Q")
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
            [_python(self.spec), "-I", "-S", str(BOOTSTRAP), str(child_read), str(child_write)],
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
        variables.update(_runtime_variables(spec))
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


def _python(spec: FunctionSpec) -> str:
    from breakwater.local.build import runtime_python

    return spec.python or runtime_python()


def _runtime_variables(spec: FunctionSpec) -> dict[str, str]:
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


class ZygoteUnavailable(Exception):
    """The zygote cannot fork (it ended, refused, or did not answer): start a fresh interpreter instead."""


class ForkedProcess:
    """An environment forked by a zygote, with the part of ``subprocess.Popen``'s interface the runtime uses.

    The zygote is its parent; this process follows it through a pidfd (``poll``, ``wait``, ``kill``), and
    asks the zygote for its exit status.
    """

    def __init__(self, zygote: Zygote, pid: int, stderr_fd: int) -> None:
        self._zygote = zygote
        self.pid = pid
        self.stderr = os.fdopen(stderr_fd, "rb")
        self.returncode: int | None = None
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # it ended (and was reaped) already
            self._pidfd = None

    def _ended(self, timeout: float) -> bool:
        if self._pidfd is None:
            return True
        ready, _, _ = select.select([self._pidfd], [], [], timeout)
        return bool(ready)

    def poll(self) -> int | None:
        if self.returncode is None and self._ended(0):
            self.returncode = self._zygote.exit_status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._ended(timeout if timeout is not None else 1e9):
                raise subprocess.TimeoutExpired(f"environment {self.pid}", timeout or 0)
            self.returncode = self._zygote.exit_status(self.pid)
        return self.returncode

    def kill(self) -> None:
        if self._pidfd is not None and self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def close(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None


class Zygote:
    """The fork server of one build (``lambda_bootstrap --zygote``): cold starts with its libraries imported.

    It starts bare. The first environment it forks reports the libraries its init phase imported; the
    zygote imports those, so every later environment starts with them in memory.
    """

    def __init__(self, spec: FunctionSpec) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own bootstrap and interpreter
                [_python(spec), "-I", "-S", str(BOOTSTRAP), "--zygote", str(theirs.fileno())],
                env=_runtime_variables(spec),
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            theirs.close()
        ours.settimeout(ZYGOTE_ANSWER_SECONDS)
        self._sock = ours
        self._lock = threading.Lock()
        self._libraries = "wanted"  # -> "reporting" -> "preloaded"
        self.usable = True
        self.refused = ""
        self.preloaded = 0
        self.last_used = time.monotonic()

    def _ask(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> dict[str, Any]:
        with self._lock:
            if not self.usable:
                raise ZygoteUnavailable("the zygote was stopped")
            try:
                socket.send_fds(self._sock, [json.dumps(message).encode()], list(fds))
                answer = self._sock.recv(1 << 16)
            except OSError as exc:  # it ended, or did not answer in time
                self._stop_locked()
                raise ZygoteUnavailable(str(exc)) from None
            if not answer:
                self._stop_locked()
                raise ZygoteUnavailable("the zygote ended")
            return json.loads(answer)  # type: ignore[no-any-return]

    def fork(self, variables: dict[str, str], child_read: int, child_write: int) -> ForkedProcess:
        self.last_used = time.monotonic()
        stderr_read, stderr_write = os.pipe()
        try:
            answer = self._ask({"fork": variables}, (child_read, child_write, stderr_write))
        except ZygoteUnavailable:
            os.close(stderr_read)
            raise
        finally:
            os.close(stderr_write)
        if "pid" not in answer:
            os.close(stderr_read)
            raise ZygoteUnavailable(str(answer.get("error", answer)))
        return ForkedProcess(self, int(answer["pid"]), stderr_read)

    def wants_libraries(self) -> bool:
        """True once: the caller's environment is to report the libraries its init phase imports."""
        with self._lock:
            if self._libraries != "wanted":
                return False
            self._libraries = "reporting"
            return True

    def libraries_not_reported(self) -> None:
        with self._lock:
            if self._libraries == "reporting":
                self._libraries = "wanted"

    def preload(self, libraries: list[str]) -> None:
        try:
            answer = self._ask({"preload": libraries})
        except ZygoteUnavailable:
            return
        with self._lock:
            self._libraries = "preloaded"
            self.preloaded = int(answer.get("preloaded", 0))
            if answer.get("refused"):  # forking it again would not be safe
                self.refused = str(answer["refused"])
                self._stop_locked()

    def exit_status(self, pid: int) -> int:
        """The exit code of an environment that ended (-9 when killed); -1 when the zygote cannot tell."""
        for _ in range(50):
            try:
                status = self._ask({"status": pid}).get("status")
            except ZygoteUnavailable:
                return -1
            if status is not None:
                return int(status)
            time.sleep(0.01)  # the zygote reaps on SIGCHLD, a moment after the pidfd says it ended
        return -1

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        self.usable = False
        with contextlib.suppress(OSError):
            self._sock.close()
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


class _Pool:
    """The environments of one function: idle ones are reused, at most ``limit`` at once.

    An invocation goes to an idle environment picked at random (seeded by the function's name), as
    concurrent Lambda invocations spread over a function's warm environments; Lambda documents no order.
    """

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.idle: list[Environment] = []
        self.count = 0
        # A reservation caps the environments too, but this machine runs at most MAX_ENVIRONMENTS per function.
        self.limit = min(spec.reserved_concurrency or MAX_ENVIRONMENTS, MAX_ENVIRONMENTS)
        self.busy = 0  # invocations in flight
        self.rng = random.Random(spec.name)


class Runtime:
    """Every function's environments, with their bounds; or, with ``remote_endpoint``, that endpoint's Invoke API."""

    def __init__(self, remote_endpoint: str | None = None) -> None:
        self.remote_endpoint = remote_endpoint.rstrip("/") if remote_endpoint else None
        self._lock = threading.Condition()
        self._pools: dict[tuple[Any, ...], _Pool] = {}
        self._zygotes: dict[tuple[Any, ...], Zygote] = {}
        self._zygote_lock = threading.Lock()
        self._reaper: threading.Thread | None = None
        self._stopping = threading.Event()
        atexit.register(self.shutdown)  # environments are processes: none outlives the interpreter

    def _acquire(self, spec: FunctionSpec) -> tuple[_Pool, Environment | None]:
        with self._lock:
            pool = self._pools.setdefault(spec.key(), _Pool(spec))
            if spec.reserved_concurrency is not None and pool.busy >= spec.reserved_concurrency:
                raise ReservedConcurrencyExceeded(f"{spec.name}: {pool.busy} invocations in flight")
            pool.busy += 1
            while True:
                while pool.idle:
                    environment = pool.idle.pop(pool.rng.randrange(len(pool.idle)))
                    if environment.alive:
                        return pool, environment
                    pool.count -= 1
                if pool.count < pool.limit:
                    pool.count += 1
                    self._evict_for_new()
                    return pool, None
                self._lock.wait(1.0)

    def _evict_for_new(self) -> None:
        """Keep at most MAX_TOTAL_ENVIRONMENTS alive: stop the longest-idle ones (lock held)."""
        total = sum(pool.count for pool in self._pools.values())
        idle = sorted(
            ((env.last_used, pool, env) for pool in self._pools.values() for env in pool.idle), key=lambda t: t[0]
        )
        while total > MAX_TOTAL_ENVIRONMENTS and idle:
            _, pool, environment = idle.pop(0)
            pool.idle.remove(environment)
            pool.count -= 1
            total -= 1
            environment.kill()

    def _release(self, pool: _Pool, environment: Environment | None) -> None:
        with self._lock:
            pool.busy -= 1
            if environment is not None and environment.alive:
                environment.last_used = time.monotonic()
                pool.idle.append(environment)
            else:
                pool.count -= 1
            self._lock.notify_all()

    def invoke(self, spec: FunctionSpec, event: Any) -> InvocationResult:
        """Run the handler of ``spec`` on ``event`` in one of its environments (or at the remote endpoint)."""
        if self.remote_endpoint:
            return _invoke_remote(self.remote_endpoint, spec, event)
        self._start_reaper()
        now = time.time()
        pool, environment = self._acquire(spec)
        try:
            if environment is None:
                environment = Environment(spec, self._zygote_for(spec))
                failure = environment.initialise(now)
                if failure is not None:
                    environment.kill()
                    return failure
            return environment.invoke(event, now)
        finally:
            self._release(pool, environment)

    def _zygote_for(self, spec: FunctionSpec) -> Zygote | None:
        """The zygote of ``spec``'s build (started on first use), or None when zygotes are off or failed."""
        if not USE_ZYGOTES:
            return None
        variables = tuple(sorted(_runtime_variables(spec).items()))
        key = (_python(spec), str(spec.code_dir), str(spec.runtime_dir), variables)
        with self._zygote_lock:
            zygote = self._zygotes.get(key)
            if zygote is None or not zygote.usable:
                if zygote is not None and zygote.refused:
                    return None  # its libraries cannot be forked safely: fresh interpreters for this build
                zygote = self._zygotes[key] = Zygote(spec)
            return zygote

    def zygotes(self) -> list[Zygote]:
        """The fork servers running now (one per build)."""
        with self._zygote_lock:
            return [z for z in self._zygotes.values() if z.usable]

    def _start_reaper(self) -> None:
        with self._lock:
            if self._reaper is not None and self._reaper.is_alive():
                return
            self._stopping.clear()
            self._reaper = threading.Thread(target=self._reap, name="lambda-reaper", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        while not self._stopping.wait(IDLE_SECONDS / 4):
            cutoff = time.monotonic() - IDLE_SECONDS
            with self._lock:
                for key, pool in list(self._pools.items()):
                    for environment in [e for e in pool.idle if e.last_used < cutoff]:
                        pool.idle.remove(environment)
                        pool.count -= 1
                        environment.kill()
                    if not pool.count:
                        del self._pools[key]
            with self._zygote_lock:
                for key, zygote in list(self._zygotes.items()):
                    if zygote.last_used < cutoff:  # no cold start of its build for a while
                        zygote.stop()
                        del self._zygotes[key]

    def environments_of(self, arn: str) -> int:
        """How many environments the function ``arn`` has alive (busy or idle)."""
        with self._lock:
            return sum(pool.count for pool in self._pools.values() if pool.spec.arn == arn)

    def environments(self) -> int:
        """How many environments are alive (busy or idle)."""
        with self._lock:
            return sum(pool.count for pool in self._pools.values())

    def busy(self) -> int:
        """How many invocations are running (or starting their environment) now."""
        with self._lock:
            return sum(pool.count - len(pool.idle) for pool in self._pools.values())

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no invocation runs (True), or ``timeout`` seconds pass (False).

        An invocation outlives a Step Functions task that timed out (on AWS too: the function runs on to its
        own timeout); a test that counts the provider's calls waits here for the previous test's to end.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while any(pool.count - len(pool.idle) for pool in self._pools.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.5))
        return True

    def shutdown(self) -> None:
        self._stopping.set()
        with self._zygote_lock:
            for zygote in self._zygotes.values():
                zygote.stop()
            self._zygotes.clear()
        with self._lock:
            for pool in self._pools.values():
                for environment in pool.idle:
                    environment.kill()
                pool.count -= len(pool.idle)
                pool.idle.clear()
            self._pools = {key: pool for key, pool in self._pools.items() if pool.count}


def _invoke_remote(endpoint: str, spec: FunctionSpec, event: Any) -> InvocationResult:
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
