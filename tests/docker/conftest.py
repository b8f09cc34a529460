"""The functions in the real Lambda runtime: ``sam local invoke`` and ``sam local start-lambda`` with a Docker engine.

Each function runs from ``sam build`` output (docker/sam_local.py: the template for this machine's architecture) in
the local invoke image (``make sam-local-image``), against a ``breakwater local up`` on free ports. Where no engine
answers, or the image or python3.13 is missing, the tests are skipped with the reason; with
BREAKWATER_REQUIRE_ALL=1 (tests/requirements.py) they fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from breakwater.template import PROJECT_ROOT, functions, load_template
from tests.docker.relay import Relay, bridge_gateway
from tests.e2e.conftest import LocalUp, free_port, local_up_running, tool
from tests.requirements import unavailable

DOCKER = shutil.which("docker") or "docker"
IMAGE_TAG = (PROJECT_ROOT / "docker" / "lambda-image" / "tag").read_text().strip()
# Cold starts in the emulator take seconds: calls get a timeout far beyond them (the template's default is 10 s).
CALL_TIMEOUT_SECONDS = 30
# The template parameters of the stack and of the functions under sam, alike: a breaker that trips after three
# failures, waits 2 s (the one real wait of these tests) and closes after two probe successes.
PARAMETERS = {
    "FailureThreshold": "3",
    "CooldownSeconds": "2",
    "MaxCooldownSeconds": "4",
    "SuccessThreshold": "2",
    "CallTimeoutSeconds": str(CALL_TIMEOUT_SECONDS),
    "ProbeLeaseSeconds": str(2 * CALL_TIMEOUT_SECONDS),
}
START_LAMBDA_TIMEOUT = 120.0


def _load_sam_local() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sam_local", PROJECT_ROOT / "docker" / "sam_local.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sam_local = _load_sam_local()


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The engine's version; skips (BREAKWATER_REQUIRE_ALL=1: fails) when none answers."""
    try:
        answer = subprocess.run(
            [DOCKER, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"no Docker engine answers ({DOCKER} version: {exc})")
    if answer.returncode != 0:
        reason = (answer.stderr.strip().splitlines() or ["no output"])[-1]
        unavailable(f"no Docker engine answers ({DOCKER} version: {reason})")
    return answer.stdout.strip()


@pytest.fixture(scope="session")
def invoke_image(docker_engine: str) -> str:
    """The local invoke image's tag; skips (BREAKWATER_REQUIRE_ALL=1: fails) when it was not built."""
    found = subprocess.run([DOCKER, "image", "inspect", IMAGE_TAG], capture_output=True, text=True, timeout=30)
    if found.returncode != 0:
        unavailable(f"the local invoke image {IMAGE_TAG} is missing: run `make sam-local-image`")
    return IMAGE_TAG


@pytest.fixture(scope="session")
def built_template(docker_engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``sam build`` of the template for this machine's architecture, in a folder of its own.

    The builds need no engine, but take half a minute each: they run with the Docker tests, not in every
    ``make test`` of a machine without one.
    """
    try:
        sam_local.python313()
    except sam_local.SamLocalError as exc:
        unavailable(str(exc))
    started = time.monotonic()
    built: Path = sam_local.build(tmp_path_factory.mktemp("sam-local"), sam_local.machine_architecture())
    print(f"sam build (local architecture): {time.monotonic() - started:.1f} s")
    return built


def _refers_to_resource(value: Any, resources: dict[str, Any]) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((key, target),) = value.items()
    return (key == "Ref" and target in resources) or key == "Fn::GetAtt"


def container_environment(template: dict[str, Any], outputs: dict[str, str], endpoint_url: str) -> dict[str, Any]:
    """``--env-vars``: the SDK's endpoint for every function, and each variable that names a stack resource.

    A variable's value comes from the stack output whose Value is the same intrinsic (``!Ref BreakerTable`` ->
    ``BreakerTableName``), so the real names of the running stack reach the container. Parameters are not here:
    ``--parameter-overrides`` gives them, as to the stack.
    """
    by_value = {json.dumps(o["Value"], sort_keys=True): name for name, o in template["Outputs"].items()}
    environment: dict[str, Any] = {"Parameters": {sam_local.ENDPOINT_VARIABLE: endpoint_url}}
    for logical_id, props in functions(template).items():
        variables = (props.get("Environment") or {}).get("Variables") or {}
        named: dict[str, str] = {}
        for name, value in variables.items():
            if _refers_to_resource(value, template["Resources"]):
                output = by_value.get(json.dumps(value, sort_keys=True))
                assert output, f"{logical_id} {name} = {value}: no stack output gives it, so no test can pass it"
                named[name] = outputs[output]
        environment[logical_id] = named
    return environment


@dataclass
class Invocation:
    """One ``sam local invoke``: the function's answer (its result or its error JSON), the logs, the wall time."""

    answer: Any
    logs: str
    seconds: float

    @property
    def error_type(self) -> str | None:
        if isinstance(self.answer, dict) and "errorType" in self.answer:
            return str(self.answer["errorType"])
        return None


@dataclass
class DockerStack:
    """A ``breakwater local up`` whose Lambda invokes go to ``lambda_port``, and what ``sam local`` needs for it."""

    up: LocalUp
    relay: Relay
    lambda_port: int
    template: dict[str, Any]
    built_template: Path
    env_vars_file: Path
    api_key_secret_arn: str
    timings: dict[str, list[float]] = field(default_factory=dict)

    @property
    def outputs(self) -> dict[str, str]:
        return self.up.outputs()

    def container_url(self, loopback_url: str) -> str:
        """``http://127.0.0.1:PORT`` as a function container reaches it (through the relay)."""
        return self.relay.url(int(loopback_url.rsplit(":", 1)[1]))

    def sam_env(self) -> dict[str, str]:
        """The SAM CLI's own environment: fake credentials, and STS on the local stack.

        ``sam local`` asks STS for the account id before each invoke; against AWS, unreachable here, that costs
        about 9 s of retries. The container gets none of this: only the template's variables and ``--env-vars``.
        """
        return {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": self.up.endpoint,
            "SAM_CLI_TELEMETRY": "0",
        }

    def sam_options(self) -> list[str]:
        overrides = {
            **PARAMETERS,
            "PaymentApiUrl": self.container_url(self.up.provider_url),
            "PaymentApiKeySecretArn": self.api_key_secret_arn,
        }
        return [
            "--template",
            str(self.built_template),
            "--invoke-image",
            IMAGE_TAG,
            "--skip-pull-image",
            "--env-vars",
            str(self.env_vars_file),
            "--parameter-overrides",
            *(f"{key}={value}" for key, value in overrides.items()),
        ]

    def invoke(self, function: str, event: Path) -> Invocation:
        started = time.monotonic()
        result = subprocess.run(
            [str(tool("sam")), "local", "invoke", function, "--event", str(event), *self.sam_options()],
            env=self.sam_env(),
            capture_output=True,
            text=True,
            timeout=180,
            cwd=self.built_template.parent,
        )
        seconds = time.monotonic() - started
        self.timings.setdefault(f"sam local invoke {function}", []).append(seconds)
        assert result.returncode == 0, f"sam local invoke {function} exited {result.returncode}:\n{result.stderr}"
        lines = result.stdout.strip().splitlines()
        assert lines, f"sam local invoke {function} printed no answer:\n{result.stderr}"
        return Invocation(json.loads(lines[-1]), result.stderr, seconds)

    def provider_stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.up.provider_url}/_control", timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def docker_stack(
    docker_engine: str, invoke_image: str, built_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DockerStack]:
    lambda_port = free_port()
    overrides = [f"{key}={value}" for key, value in PARAMETERS.items()]
    gateway = bridge_gateway(DOCKER)
    # The containers reach the endpoint at the bridge's address (through the relay): a Host local up must allow.
    with local_up_running(
        "--parameter-overrides",
        *overrides,
        "--lambda-endpoint",
        f"http://127.0.0.1:{lambda_port}",
        "--no-replay",
        "--allow-host",
        gateway,
    ) as up:
        aws_port = int(up.endpoint.rsplit(":", 1)[1])
        provider_port = int(up.provider_url.rsplit(":", 1)[1])
        with Relay(gateway, [aws_port, provider_port]) as relay:
            template = load_template()
            secrets = up.client("secretsmanager").list_secrets()["SecretList"]
            env_vars_file = tmp_path_factory.mktemp("sam-env") / "env-vars.json"
            stack = DockerStack(up, relay, lambda_port, template, built_template, env_vars_file, secrets[0]["ARN"])
            environment = container_environment(template, up.outputs(), relay.url(aws_port))
            env_vars_file.write_text(json.dumps(environment, indent=2))
            yield stack
            for name, seconds in stack.timings.items():
                print(f"{name}: " + ", ".join(f"{s:.1f} s" for s in seconds))


@dataclass
class StartLambda:
    """A running ``sam local start-lambda`` (warm containers) and its log."""

    process: subprocess.Popen[str]
    url: str
    log: Path

    def reports(self) -> int:
        """How many invocations the emulator has reported (its REPORT lines)."""
        return self.log.read_text(errors="replace").count("REPORT RequestId:")

    def durations_ms(self) -> list[float]:
        """The ``Duration`` of every reported invocation, in milliseconds."""
        return [
            float(m)
            for m in re.findall(
                r"REPORT RequestId: \S+\s+(?:Init Duration: [\d.]+ ms\s+)?Duration: ([\d.]+) ms",
                self.log.read_text(errors="replace"),
            )
        ]


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # any HTTP answer will do: the server is up
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def start_lambda(docker_stack: DockerStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartLambda]:
    """``sam local start-lambda`` on the port the local stack sends its Lambda invokes to."""
    log = tmp_path_factory.mktemp("start-lambda") / "start-lambda.log"
    command = [str(tool("sam")), "local", "start-lambda", "--host", "127.0.0.1"]
    command += ["--port", str(docker_stack.lambda_port), "--warm-containers", "EAGER", *docker_stack.sam_options()]
    started = time.monotonic()
    with log.open("w") as sink:
        process = subprocess.Popen(
            command,
            env=docker_stack.sam_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=docker_stack.built_template.parent,
        )
    url = f"http://127.0.0.1:{docker_stack.lambda_port}"
    try:
        while not _answers(url):
            if process.poll() is not None or time.monotonic() - started > START_LAMBDA_TIMEOUT:
                pytest.fail(f"sam local start-lambda did not answer on {url}:\n{log.read_text()}")
            time.sleep(0.5)
        print(f"sam local start-lambda (EAGER warm containers) answered after {time.monotonic() - started:.1f} s")
        served = StartLambda(process, url, log)
        yield served
        durations = sorted(served.durations_ms())
        if durations:
            print(f"start-lambda invocations: {len(durations)}, Duration {durations[0]:.0f} to {durations[-1]:.0f} ms")
    finally:
        # sam stops and removes its warm containers on SIGINT, one after the other: measured here, about a minute
        # for the three functions. A short wait, then the containers are removed below in any case.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=SAM_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        # An invoke that arrives while sam shuts down (the stack's stream poller, its heartbeat) can leave a
        # container behind: remove every container that runs this session's build.
        remove_containers_of(docker_stack.built_template.parent)


SAM_STOP_SECONDS = 10


def remove_containers_of(build_dir: Path) -> None:
    """Remove the sam containers whose /var/task is a folder of ``build_dir``."""
    listed = subprocess.run(
        [DOCKER, "ps", "-aq", "--filter", "label=sam.cli.container.type=lambda"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    for container in listed:
        mounts = subprocess.run(
            [DOCKER, "inspect", "--format", "{{range .Mounts}}{{.Source}} {{end}}", container],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split()
        if any(Path(source).is_relative_to(build_dir) for source in mounts):
            subprocess.run([DOCKER, "rm", "-f", container], capture_output=True, timeout=60)
