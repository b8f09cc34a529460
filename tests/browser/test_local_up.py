"""The console as users start it: the page ``breakwater local up`` serves, and ``breakwater console``."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from breakwater.executions import ExecutionResult, run
from breakwater.template import PROJECT_ROOT
from tests.browser.conftest import REBIND_HOST, WAIT_SECONDS, require_selenium
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
    later: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def wait_for_line(self, text: str, timeout: float = WAIT_SECONDS) -> str:
        """The first line printed (so far or within ``timeout``) that contains ``text``."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((line for line in self.lines if text in line), None)
            if found is not None:
                return found
            try:
                line = self.later.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line with {text!r}; printed:\n" + "".join(self.lines[-30:]))
            self.lines.append(line)

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
            return Process(process, found.group(1), seen, lines)


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


def test_the_provider_page_tells_local_ups_key_policy(browser: Any, local_up: LocalUp) -> None:
    """local up's provider charges a call without a key (a stack deployed without the secret): the page says so."""
    browser.get(local_up.up.url + "/provider")
    assert css(browser, "#api-key").text.startswith("checked when sent: a call without a key is charged")


# -- the AWS endpoint refuses other web pages (DNS rebinding, CORS) --------------------------------------------

EVIL_PAGE = """<!doctype html><title>not the console</title><body><script>
const target = new URLSearchParams(location.search).get("target");
const done = [];
// A CORS request (JSON with X-Amz-Target: preflighted) that would read the tables.
fetch(target, {method: "POST", body: "{}", headers: {"Content-Type": "application/x-amz-json-1.0",
  "X-Amz-Target": "DynamoDB_20120810.ListTables"}})
  .then(r => r.text().then(t => done.push("read: " + t)), e => done.push("refused: " + e.name))
  // A simple cross-origin POST (no preflight) that would create a queue.
  .then(() => fetch(target, {method: "POST", mode: "no-cors", body: "Action=CreateQueue&QueueName=EVIL_QUEUE",
    headers: {"Content-Type": "application/x-www-form-urlencoded"}}))
  .then(() => done.push("sent"), e => done.push("failed: " + e.name))
  .then(() => { document.body.dataset.done = done.join(" | "); });
</script></body>"""


@pytest.fixture
def evil_site() -> Iterator[str]:
    """Another web site on this machine (another port), reached by a name that resolves to 127.0.0.1."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = EVIL_PAGE.replace("EVIL_QUEUE", self.server.queue_name).encode()  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.queue_name = f"evil-{time.time_ns()}"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{REBIND_HOST}:{server.server_port}/evil.html#{server.queue_name}"  # type: ignore[attr-defined]
    finally:
        server.shutdown()


def test_a_rebinding_host_gets_403_from_the_aws_endpoint(browser: Any, local_up: LocalUp) -> None:
    port = local_up.endpoint.rsplit(":", 1)[-1]
    # a page whose name resolves to 127.0.0.1 (DNS rebinding) asks the AWS endpoint for the stack
    browser.get(f"http://{REBIND_HOST}:{port}/?Action=DescribeStacks&Version=2010-05-15")
    assert "403 Forbidden" in css(browser, "body").text
    assert "does not name this machine" in css(browser, "body").text
    line = local_up.up.wait_for_line(f"Host '{REBIND_HOST}:{port}' does not name this machine")
    assert line.startswith("AWS endpoint refused GET /")


def test_another_sites_page_can_neither_read_nor_change_the_local_stack(
    browser: Any, local_up: LocalUp, evil_site: str
) -> None:
    page, queue_name = evil_site.split("#")
    # when: the developer opens another site's page, which calls the AWS endpoint from the browser
    browser.get(f"{page}?target={local_up.endpoint}/")
    done = wait_until(browser, lambda d: css(d, "body").get_attribute("data-done"))
    # then: its CORS request was refused (no grant to its origin), its simple POST changed nothing
    assert done.startswith("refused: TypeError"), done
    assert local_up.client("sqs").list_queues(QueueNamePrefix=queue_name).get("QueueUrls", []) == []
    local_up.up.wait_for_line("AWS endpoint refused OPTIONS /: Origin 'http://rebind.test")
    local_up.up.wait_for_line("AWS endpoint refused POST /: Origin 'http://rebind.test")
    # and the console on the same port still works for this machine's own browser
    browser.get(local_up.up.url + "/breakers")
    assert css(browser, "h1").text == "Breakers"
