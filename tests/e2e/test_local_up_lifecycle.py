"""`breakwater local up` starting and stopping: busy ports fail at once, signals stop it in every phase."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest

from breakwater.template import PROJECT_ROOT
from tests.e2e.conftest import free_port, local_up_command, local_up_env

pytestmark = pytest.mark.e2e


def test_a_busy_port_fails_at_once_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        started = time.monotonic()

        result = subprocess.run(
            local_up_command("--port", str(port), "--provider-port", str(free_port())),
            cwd=PROJECT_ROOT,
            env=local_up_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"breakwater: error: AWS endpoint port {port} on 127.0.0.1 is already in use; choose another with --port"
    ]
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_stops_it_promptly(sig):
    process = subprocess.Popen(
        local_up_command("--port", str(free_port()), "--provider-port", str(free_port()), "--no-replay"),
        cwd=PROJECT_ROOT,
        env=local_up_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the signal handlers are in place
        assert first.startswith("Starting the local stack on "), first
        time.sleep(1)  # in the middle of the start-up: moto is up, the stack is deploying
        assert process.poll() is None, process.communicate()[0]
        process.send_signal(sig)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 130, output
    assert "interrupted" in output
    assert "Ready." not in output
