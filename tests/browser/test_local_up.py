"""The console as users start it: the page ``breakwater local up`` serves, and ``breakwater console``."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from breakwater.executions import ExecutionResult, run
from breakwater.template import PROJECT_ROOT
from tests.browser.conftest import WAIT_SECONDS, require_selenium
from tests.e2e.conftest import START_TIMEOUT, free_port
from tests.workflow.helpers import order

require_selenium()

from selenium.webdriver.common.by import By  # noqa: E402 - after the check that selenium is there

from tests.browser.test_console import css, wait_until  # noqa: E402

LOCAL_UP_LINK = re.compile(r"console: (http://127\.0\.0\.1:\d+/console)\s*$")
CONSOLE_LINK = re.compile(r"Breakwater console on (http://127\.0\.0\.1:\d+/console)/ ")


@dataclass
class Process:
    """A ``breakwater`` subprocess, its output so far, and the URL its banner printed."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def spawn(arguments: list[str], link: re.Pattern[str]) -> Process:
    """Start ``breakwater ARGUMENTS`` and wait (bounded) for the banner line that ``link`` matches."""
    process = subprocess.Popen(
        [sys.executable, "-m", "breakwater", *arguments],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            line = None
        if line is None:
            process.kill()
            pytest.fail(f"breakwater {' '.join(arguments)} printed no console link: {''.join(seen)}")
        seen.append(line)
        found = link.search(line)
        if found:
            return Process(process, found.group(1), seen)


@dataclass
class LocalUp:
    up: Process
    endpoint: str
    result: ExecutionResult

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def local_up() -> Iterator[LocalUp]:
    """``breakwater local up`` on free ports, with one order charged through the stack it deployed."""
    port, provider_port = free_port(), free_port()
    arguments = ["local", "up", "--port", str(port), "--provider-port", str(provider_port), "--no-replay"]
    up = spawn(arguments, LOCAL_UP_LINK)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
        outputs = cloudformation.describe_stacks(StackName="breakwater")["Stacks"][0]["Outputs"]
        machine = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "StateMachineArn")
        sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1")
        yield LocalUp(up=up, endpoint=endpoint, result=run(sfn, machine, order(), timeout=60))
    finally:
        up.stop()


def test_local_up_prints_the_console_link_and_serves_it_beside_the_aws_endpoint(
    browser: Any, local_up: LocalUp
) -> None:
    # given: the banner's link is on the AWS endpoint's own port
    assert local_up.up.url == f"{local_up.endpoint}/console"
    assert local_up.result.output["status"] == "charged"
    # when
    browser.get(local_up.up.url + "/")
    # then
    row = f'tr.execution[data-name="{local_up.result.name}"] td.outcome'
    assert wait_until(browser, lambda d: css(d, row).text, WAIT_SECONDS) == "charged"
    assert browser.find_elements(By.CSS_SELECTOR, "#mode-banner") == []  # local: writes allowed, no warning
    browser.get(local_up.up.url + "/provider")
    assert css(browser, "#provider-mode").text == "healthy"
    assert int(css(browser, "#calls").text) >= 1
    # and moto still answers everything outside /console
    sfn = local_up.client("stepfunctions")
    assert sfn.describe_execution(executionArn=local_up.result.arn)["status"] == "SUCCEEDED"


def test_the_console_command_serves_the_same_pages_for_any_endpoint(browser: Any, local_up: LocalUp) -> None:
    # given: `breakwater console` pointed at the local stack's endpoint, on a port of its own
    served = spawn(["console", "--endpoint-url", local_up.endpoint, "--port", "0"], CONSOLE_LINK)
    try:
        # when
        browser.get(served.url + "/")
        # then
        row = f'tr.execution[data-name="{local_up.result.name}"] td.outcome'
        assert wait_until(browser, lambda d: css(d, row).text, WAIT_SECONDS) == "charged"
        browser.get(served.url + "/breakers")
        assert css(browser, "h1").text == "Breakers"
        assert all(b.is_enabled() for b in browser.find_elements(By.CSS_SELECTOR, "button.action"))
    finally:
        served.stop()


def test_the_console_command_names_a_missing_stack_and_exits_1(local_up: LocalUp) -> None:
    command = ["console", "--endpoint-url", local_up.endpoint, "--stack-name", "nope"]
    answer = subprocess.run(
        [sys.executable, "-m", "breakwater", *command],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 1
    assert "stack nope not found" in answer.stderr
