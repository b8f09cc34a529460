"""The operator CLI against the embedded stack (issue 10): one-line errors, exit codes and output of the commands that
read and write a stack, and `local up` meeting a busy port. (What needs no stack: tests/unit/test_cli.py.)"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from breakwater import cli
from breakwater.aws import Stack
from breakwater.breaker import BreakerChanged, BreakerState, NoSuchBreaker, forget, override, read
from breakwater.cli import render
from breakwater.executions import wait
from breakwater.local.server import ExecutionWatcher, LocalServer, PortInUse
from tests.cli_helpers import narrow, signals_restored
from tests.workflow.helpers import order, put_breaker


@pytest.fixture(scope="module")
def stack(embedded: Any) -> Stack:
    return embedded.deploy()


@pytest.fixture
def run(stack: Stack, capsys: pytest.CaptureFixture[str]) -> Any:
    """``breakwater ARGS --stack-name <the test stack>`` in-process: (exit code, stdout, stderr)."""

    def invoke(*args: str, stack_name: str | None = None) -> tuple[int, str, str]:
        try:
            code = cli.main([*args, "--stack-name", stack_name or stack.name])
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def restore_signals() -> Iterator[None]:
    with signals_restored():
        yield


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("flag", "what"), [("--port", "AWS endpoint"), ("--provider-port", "fake provider")])
def test_local_up_on_a_busy_port_fails_at_once_naming_it(flag, what, busy_port, capsys, restore_signals):
    other = "--provider-port" if flag == "--port" else "--port"

    code = cli.main(["local", "up", flag, str(busy_port), other, str(free_port())])
    err = capsys.readouterr().err

    assert code == 1
    assert err.strip().splitlines() == [
        f"breakwater: error: {what} port {busy_port} on 127.0.0.1 is already in use; choose another with {flag}"
    ]


def test_a_busy_provider_port_releases_the_aws_port(busy_port):
    aws_port = free_port()

    with pytest.raises(PortInUse, match=f"fake provider port {busy_port}"):
        LocalServer(port=aws_port, provider_port=busy_port).start()

    with socket.socket() as again:
        again.bind(("127.0.0.1", aws_port))  # raises if the failed start still held it


# -- item 2: history and graph on any ARN -------------------------------------------------------


@pytest.mark.parametrize("command", ["history", "graph"])
@pytest.mark.parametrize("arn", ["nope", "arn:aws:states:us-east-1:123456789012:stateMachine:m", ""])
def test_a_malformed_execution_arn_is_a_usage_error(command, arn, run):
    code, _, err = run(command, arn)

    assert code == 2
    assert "is not an execution ARN" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["history", "graph"])
def test_an_unknown_execution_is_one_clear_line(command, run, stack, tmp_path):
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + ":no-such-execution"

    code, _, err = run(command, arn, *(["-o", str(tmp_path / "g.svg")] if command == "graph" else []))

    assert code == 1
    assert err.strip().splitlines() == [f"breakwater: error: ExecutionDoesNotExist: Execution Does Not Exist: '{arn}'"]


def test_history_of_an_unnamed_execution(embedded, stack, run, provider):
    sfn = embedded.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=stack.state_machine_arn, input='{"orderId": "x"}')["executionArn"]
    wait(sfn, arn)

    code, out, _ = run("history", arn)

    assert code == 0
    assert "ExecutionFailed" in out


# -- item 4: values are printed literally --------------------------------------------------------


def test_markup_in_a_service_name_is_printed_literally(run):
    code, _, err = run("trip", "[red]x")

    assert code == 1
    assert "'[red]x'" in err


# -- item 5: phantom breakers and forget ------------------------------------------------------------


def test_an_override_of_a_breaker_without_record_is_refused(run, embedded, stack):
    code, _, err = run("trip", "paymnet-api")

    assert code == 1
    assert "breaker paymnet-api has no record" in err
    assert "--create" in err
    assert not read(embedded.client("dynamodb"), stack.table_name, "paymnet-api").exists


def test_the_stacks_own_service_may_be_overridden_before_its_first_record(run, embedded, stack):
    code, out, _ = run("trip", "payment-api")
    reset = run("reset", "payment-api")

    assert code == 0
    assert out.strip() == "payment-api: CLOSED -> FORCED_OPEN"
    assert reset[0] == 0


def test_create_starts_a_breaker_on_purpose(run, embedded, stack):
    code, out, _ = run("disable", "new-service", "--create")

    assert code == 0
    assert out.strip() == "new-service: CLOSED -> DISABLED"
    assert read(embedded.client("dynamodb"), stack.table_name, "new-service").state == "DISABLED"


def test_forget_deletes_the_record(run, embedded, stack):
    put_breaker(embedded, stack, "to-forget", state="OPEN", failureCount=5, version=3)

    code, out, _ = run("forget", "to-forget")

    assert code == 0
    assert out.startswith("to-forget: record deleted (was OPEN, version 3)")
    assert not read(embedded.client("dynamodb"), stack.table_name, "to-forget").exists
    # and status reads it as a breaker without a record: CLOSED
    code, out, _ = run("status", "to-forget", "--json")
    assert (code, json.loads(out)[0]["state"]) == (0, "CLOSED")


def test_forget_without_a_record_is_an_error(run):
    code, _, err = run("forget", "never-seen")

    assert code == 1
    assert err.strip() == "breakwater: error: breaker never-seen has no record: nothing to forget"


class ChangesAfterRead:
    """A DynamoDB client on which another writer counts a failure right after our read."""

    def __init__(self, client: Any, table: str, service: str) -> None:
        self._client, self._table, self._service = client, table, service

    def get_item(self, **kwargs: Any) -> Any:
        item = self._client.get_item(**kwargs)
        self._client.update_item(
            TableName=self._table,
            Key={"serviceName": {"S": self._service}},
            UpdateExpression="ADD failureCount :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return item

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_forget_keeps_a_record_that_changed_since_it_was_read(embedded, stack):
    put_breaker(embedded, stack, "busy", state="CLOSED", failureCount=1, version=1)
    dynamodb = embedded.client("dynamodb")

    with pytest.raises(BreakerChanged, match="changed since it was read"):
        forget(ChangesAfterRead(dynamodb, stack.table_name, "busy"), stack.table_name, "busy")

    assert read(dynamodb, stack.table_name, "busy").failure_count == 2


def test_override_refuses_a_missing_record_unless_asked_to_create(embedded, stack):
    dynamodb = embedded.client("dynamodb")

    with pytest.raises(NoSuchBreaker):
        override(dynamodb, stack.table_name, "typo-service", BreakerState.FORCED_OPEN, create=False)
    before, after = override(dynamodb, stack.table_name, "typo-service", BreakerState.FORCED_OPEN, create=True)

    assert (before.exists, after.state) == (False, "FORCED_OPEN")


# -- item 6: graph formats -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x.pdf", "x"])
def test_graph_refuses_a_format_it_cannot_write_in_one_line(name, run, tmp_path):
    code, _, err = run("graph", "-o", str(tmp_path / name))

    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "a picture is .svg or .png" in err
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(
    "args", [["--format", "mermaid", "-o", "f.mmd"], ["-o", "f.mmd"], ["--format", "mermaid", "-o", "f.txt"]]
)
def test_graph_writes_mermaid_to_the_file_given(args, run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    code, out, _ = run("graph", *args)

    assert code == 0
    assert out == ""
    assert (tmp_path / args[-1]).read_text().startswith("flowchart TD")


def test_bad_json_is_a_usage_error(run):
    code, _, err = run("start", "--input", "{nope")

    assert code == 2
    assert err.startswith("breakwater: error: --input: not valid JSON")


def test_status_of_a_service_without_a_record_is_an_error_naming_the_records(run, embedded, stack):
    put_breaker(embedded, stack, service="known-api", state="OPEN", version=1)

    code, out, err = run("status", "nosuch")

    assert code == 1
    assert out == ""
    assert "nosuch has no breaker record" in err
    assert "known-api" in err
    assert "the stack's own ServiceName is payment-api" in err
    assert run("status", "payment-api")[0] == 0  # the stack's own service: CLOSED with zero counts


@pytest.mark.parametrize("width", [80, 100])
def test_history_keeps_id_type_and_time_at_narrow_widths(width, embedded, stack, provider, monkeypatch):
    result = embedded.run(stack, order())
    out = narrow(monkeypatch, width)

    render.print_history(result)
    text = out.getvalue()

    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert [line for line in table if len(line) > width] == []
    for event in result.events:
        assert f"│ {event['id']:>2} │ {event['type']}" in text
        assert event["timestamp"].strftime("%H:%M:%S.%f")[:12] in text


# -- item 14: --no-wait on EXPRESS ---------------------------------------------------------------------


def test_no_wait_on_an_express_workflow_is_refused(embedded, run):
    express = embedded.deploy(WorkflowType="EXPRESS")

    code, out, err = run("start", "--no-wait", stack_name=express.name)

    assert code == 2
    assert out == ""
    assert "--no-wait: this state machine is EXPRESS" in err


# -- item 11: activity lines of local up ----------------------------------------------------------------


def test_the_watcher_reports_each_finished_execution_once(embedded, stack, provider):
    lines: list[str] = []
    watcher = ExecutionWatcher(embedded.client("stepfunctions"), lines.append)
    watcher.poll_once()  # what earlier tests of the session ran
    lines.clear()

    result = embedded.run(stack, order())
    first, second = watcher.poll_once(), watcher.poll_once()

    assert (first, second) == (1, 0)
    assert re.fullmatch(rf"execution {result.name}: charged \(breaker CLOSED\), \d+ ms", lines[0])
