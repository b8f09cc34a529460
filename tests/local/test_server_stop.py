"""Stopping ``local up`` gives the pollers' jobs under way one grace period in all, however many are stuck."""

from __future__ import annotations

import threading

import pytest

from breakwater.local import server as server_module
from breakwater.local.server import STOP_GRACE_SECONDS, LocalServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StuckThread(threading.Thread):
    """A poller whose job never ends (an invoke sent to an endpoint that went away): each join waits it out."""

    def __init__(self, clock: Clock, waits: list[float]) -> None:
        super().__init__(daemon=True)
        self.clock, self.waits = clock, waits

    def join(self, timeout: float | None = None) -> None:
        assert timeout is not None, "stopping must never wait for a poller without a bound"
        self.waits.append(timeout)
        self.clock.now += timeout


@pytest.mark.parametrize("stuck", [1, 3])
def test_stuck_pollers_share_one_grace_period(monkeypatch: pytest.MonkeyPatch, stuck: int) -> None:
    clock = Clock()
    waits: list[float] = []
    monkeypatch.setattr(server_module, "monotonic", clock)
    server = LocalServer(port=0)
    server._threads.extend(StuckThread(clock, waits) for _ in range(stuck))
    started = clock.now
    server.stop()
    assert waits[0] == STOP_GRACE_SECONDS
    assert waits[1:] == [0.0] * (stuck - 1)
    assert clock.now - started == STOP_GRACE_SECONDS
    assert server._threads == []


def test_a_poller_between_jobs_ends_when_stopped() -> None:
    server = LocalServer(port=0)
    jobs: list[int] = []
    server._spawn("poller", lambda: server._every(60, [lambda: jobs.append(1)]))
    poller = server._threads[0]
    server.stop()
    poller.join(60)  # a hang guard: it ends at once
    assert not poller.is_alive()
    assert jobs == [], "the first job was due in a minute: stopping ended the wait for it"
