"""`breakwater local up` in a subprocess on free ports, driven over HTTP as a user would."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from breakwater.template import PROJECT_ROOT

AWS_VENV = PROJECT_ROOT / ".venv-aws" / "bin"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0  # a hang guard: it stops in about 2 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_up_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "breakwater", "local", "up", *args]


def local_up_env() -> dict[str, str]:
    """A user's shell before the exports: fake credentials, no endpoint yet."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PYTHONUNBUFFERED": "1"}
    env["PYTHONFAULTHANDLER"] = "1"  # a stop that hangs is sent SIGABRT: every thread's stack is printed
    env.pop("AWS_ENDPOINT_URL", None)
    return env


def tool(name: str) -> Path:
    path = AWS_VENV / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make install` (it creates .venv-aws with the pinned AWS and SAM CLIs)")
    return path


@dataclass
class LocalUp:
    """A running `breakwater local up` and how to reach it."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    provider_url: str
    lines: list[str]
    api_key_secret_arn: str
    later: queue.Queue[str] = field(default_factory=queue.Queue)
    """What local up prints after "Ready." (its activity lines), as it prints it."""

    def wait_for_line(self, predicate: Any, timeout: float = 30) -> str:
        """The first later line for which ``predicate`` holds (kept in ``lines``); fails after ``timeout``."""
        for line in self.lines:
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.later.get(timeout=0.5)
            except queue.Empty:
                continue
            self.lines.append(line)
            if predicate(line):
                return line
        raise AssertionError("local up printed no such line; it printed:\n" + "\n".join(self.lines[-40:]))

    @property
    def endpoint(self) -> str:
        return self.env["AWS_ENDPOINT_URL"]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")  # type: ignore[call-overload]

    def outputs(self, stack: str = "breakwater") -> dict[str, str]:
        described = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}

    def provider(self, **settings: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.provider_url}/_control", data=json.dumps(settings).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def run(
        self, *args: str, timeout: float = 120, check: bool = True, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run a command with the exported environment (as a user's shell would have it)."""
        env = {**os.environ, **self.env, "SAM_CLI_TELEMETRY": "0", "COLUMNS": "200"}
        result = subprocess.run(
            [str(a) for a in args], env=env, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT, **kwargs
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{shlex.join(map(str, args))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def breakwater(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "breakwater", *args, check=check)

    def aws(self, *args: str) -> Any:
        output = self.run(tool("aws"), *args, "--output", "json").stdout
        return json.loads(output) if output.strip() else None


def python313() -> Path:
    """The folder of a python3.13 that runs (a pyenv shim may only say "command not found")."""
    candidates = sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"), reverse=True)
    found = shutil.which("python3.13")
    for candidate in [*candidates, *([Path(found)] if found else [])]:
        check = subprocess.run([str(candidate), "--version"], capture_output=True, text=True, check=False)
        if check.returncode == 0:
            return candidate.parent
    pytest.fail("sam build needs python3.13 (the function runtime) on this machine, e.g. from pyenv")


@dataclass
class SamCli:
    """docs/local-stack.md's `sam build && sam deploy --config-env local`, against a running `local up`."""

    up: LocalUp
    build_dir: Path

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        sam = tool("sam")
        path = f"{python313()}:{sam.parent}:/usr/bin:/bin"
        env = {**os.environ, **self.up.env, "PATH": path, "SAM_CLI_TELEMETRY": "0"}
        return subprocess.run(
            [str(sam), *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )

    def build(self) -> None:
        done = self._run("build", "--build-dir", str(self.build_dir))
        assert done.returncode == 0, done.stdout + done.stderr

    def deploy(self, stack_name: str, overrides: str) -> subprocess.CompletedProcess[str]:
        return self._run(
            "deploy",
            "--config-file",
            str(PROJECT_ROOT / "samconfig.toml"),
            "--config-env",
            "local",
            "--template-file",
            str(self.build_dir / "template.yaml"),
            "--stack-name",
            stack_name,
            "--no-progressbar",
            "--parameter-overrides",
            overrides,
        )


def _reader(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


@contextlib.contextmanager
def local_up_running(*args: str) -> Iterator[LocalUp]:
    """``breakwater local up`` on free ports with ``args``, as a user starts it; stopped (and checked) at the end."""
    port, provider_port = free_port(), free_port()
    process = subprocess.Popen(
        local_up_command("--port", str(port), "--provider-port", str(provider_port), *args),
        cwd=PROJECT_ROOT,
        env=local_up_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while not any(line.startswith("Ready.") for line in seen):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("breakwater local up did not become ready:\n" + "\n".join(seen))
        with contextlib.suppress(queue.Empty):
            seen.append(lines.get(timeout=1))
    export = next(line for line in seen if line.startswith("export "))
    exported = dict(item.split("=", 1) for item in shlex.split(export[len("export ") :]))
    secret = next((line.split()[-1] for line in seen if line.strip().startswith("PaymentApiKeySecretArn")), None)
    if secret is None:
        process.kill()
        pytest.fail("breakwater local up printed no PaymentApiKeySecretArn:\n" + "\n".join(seen))
    up = LocalUp(process, exported, f"http://127.0.0.1:{provider_port}", seen, secret, lines)
    try:
        yield up
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler prints where each thread is, then it ends
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            reader.join(10)  # it ends at the output's end: every line is read
            seen += drained(lines)
            pytest.fail(f"breakwater local up did not stop within {STOP_TIMEOUT:.0f} s of Ctrl-C:\n" + "\n".join(seen))
        finally:
            if process.poll() is None:
                process.kill()
    reader.join(10)  # a hang guard: the output ends with the process, and "stopped" may be its last line unread
    seen += drained(lines)
    assert process.returncode == 0, "\n".join(seen)
    assert "stopped" in seen


def drained(lines: queue.Queue[str]) -> list[str]:
    """The lines read so far and not yet taken."""
    taken = []
    while not lines.empty():
        taken.append(lines.get())
    return taken


@pytest.fixture(scope="session")
def local_up() -> Iterator[LocalUp]:
    # --no-replay: the tests read the fallback queue and the counts as the workflow left them
    with local_up_running("--no-replay") as up:
        yield up
