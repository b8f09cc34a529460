"""The runtime: every function's environments, with their bounds (per function, in all, idle time)."""

from __future__ import annotations

import atexit
import os
import random
import threading
import time
from typing import Any

from breakwater.local.runtime.environment import Environment
from breakwater.local.runtime.remote import invoke_remote
from breakwater.local.runtime.spec import (
    FunctionSpec,
    InvocationResult,
    ReservedConcurrencyExceeded,
    interpreter_of,
    runtime_variables,
)
from breakwater.local.runtime.zygote import Zygote

IDLE_SECONDS = float(os.environ.get("BREAKWATER_LAMBDA_IDLE_SECONDS", "60"))
MAX_ENVIRONMENTS = int(os.environ.get("BREAKWATER_LAMBDA_MAX_ENVIRONMENTS", "16"))
MAX_TOTAL_ENVIRONMENTS = 64
USE_ZYGOTES = os.environ.get("BREAKWATER_LAMBDA_ZYGOTE", "1") != "0"


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
            return invoke_remote(self.remote_endpoint, spec, event)
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
        variables = tuple(sorted(runtime_variables(spec).items()))
        key = (interpreter_of(spec), str(spec.code_dir), str(spec.runtime_dir), variables)
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
