"""A zygote per build: a process with the build's libraries imported, which forks cold starts (about 30 ms each)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from typing import Any

from breakwater.local.runtime.spec import BOOTSTRAP, FunctionSpec, interpreter_of, runtime_variables

ZYGOTE_ANSWER_SECONDS = 30.0


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
                [interpreter_of(spec), "-I", "-S", str(BOOTSTRAP), "--zygote", str(theirs.fileno())],
                env=runtime_variables(spec),
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
