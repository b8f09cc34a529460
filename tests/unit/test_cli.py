"""The operator CLI's failure modes and output (issue 10): one-line errors, exit codes, literal values."""

from __future__ import annotations

import datetime as dt
import io
import re
import signal
import socket
import types
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from werkzeug.test import Client
from werkzeug.wrappers import Response

from breakwater import cli
from breakwater.aws import Stack
from breakwater.breaker import BreakerChanged, BreakerState, NoSuchBreaker, forget, override, read
from breakwater.cli import app, local, parser, render
from breakwater.executions import ExecutionResult, wait
from breakwater.local.event_source import PollResult
from breakwater.local.server import ExecutionWatcher, LocalServer, PortInUse, activity_line, replay_line
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
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def narrow(monkeypatch: pytest.MonkeyPatch, width: int) -> io.StringIO:
    """Point the CLI's stdout console at a terminal of ``width`` columns; returns what it prints."""
    out = io.StringIO()
    # Every command prints through breakwater.cli.render.console, looked up when it prints: replace it.
    monkeypatch.setattr(
        render,
        "console",
        Console(file=out, width=width, color_system=None, highlight=False, soft_wrap=True, markup=False, emoji=False),
    )
    return out


# -- item 1: ports -----------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--port", "--provider-port"])
@pytest.mark.parametrize("value", ["99999", "0", "http"])
def test_a_port_out_of_range_is_a_usage_error(flag, value, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["local", "up", flag, value])

    assert exited.value.code == 2
    assert "is not a port number (1 to 65535)" in capsys.readouterr().err


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


def test_mounted_apps_get_their_prefix_and_moto_the_rest():
    server = LocalServer()

    def aws(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(f"aws {environ['PATH_INFO']}")(environ, start_response)

    def console(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(f"console {environ['SCRIPT_NAME']} {environ['PATH_INFO']}")(environ, start_response)

    client = Client(server.wsgi_app(aws))
    url = server.mount("/console", console)  # after the app was built: still served

    assert url == f"{server.endpoint}/console"
    assert client.get("/console/breakers").text == "console /console /breakers"
    assert client.get("/").text == "aws /"
    assert client.get("/consoles").text == "aws /consoles"
    with pytest.raises(ValueError, match="must start with /"):
        server.mount("console/", console)


def test_the_console_command_is_part_of_the_cli():
    args = parser.build_parser().parse_args(["console", "--endpoint-url", "http://127.0.0.1:1", "--port", "0"])

    assert args.command == "console"
    assert args.endpoint_url == "http://127.0.0.1:1"
    assert args.port == 0


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


def test_markup_and_emoji_codes_in_results_are_printed_literally(capsys):
    result = ExecutionResult(
        arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:breakwater/key",
        name="n",
        status="FAILED",
        error="InvalidOrder",
        cause="[bold]note: unknown field :secret:",
    )

    render.print_result(result)
    out = capsys.readouterr().out

    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:breakwater/key" in out
    assert "[bold]note: unknown field :secret:" in out


def test_the_local_up_banner_prints_the_secret_arn_as_it_is(monkeypatch, capsys):
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:breakwater/payment-api-key-AbC"
    server = types.SimpleNamespace(
        endpoint="http://127.0.0.1:1",
        provider=types.SimpleNamespace(url="http://127.0.0.1:2"),
        replay=True,
        lambda_endpoint=None,
        on_activity=print,
        environment=lambda: {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
    )
    done = types.SimpleNamespace(wait=lambda: True)

    stack = types.SimpleNamespace(name="s", outputs={"Queue": "[red]q"}, parameters={"PaymentApiKeySecretArn": secret})
    local.serve_until(done, server, stack, None)
    out = capsys.readouterr().out

    assert secret in out
    assert "[red]q" in out


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


# -- item 7: one-line errors, exit codes, broken pipes ------------------------------------------------


def test_a_long_error_with_newlines_stays_one_line(capsys):
    render.error("first line\nsecond " + "x" * 300)

    err = capsys.readouterr().err

    assert err.count("\n") == 1
    assert err.startswith("breakwater: error: first line second xxx")


def test_bad_json_is_a_usage_error(run):
    code, _, err = run("start", "--input", "{nope")

    assert code == 2
    assert err.startswith("breakwater: error: --input: not valid JSON")


def test_a_closed_stdout_ends_quietly(monkeypatch, capsys):
    def handler(args: Any) -> int:
        raise BrokenPipeError

    parser = types.SimpleNamespace(parse_args=lambda argv: types.SimpleNamespace(handler=handler))
    monkeypatch.setattr(app, "build_parser", lambda: parser)
    redirected: list[int] = []
    monkeypatch.setattr(app.os, "dup2", lambda fd, target: redirected.append(target))
    monkeypatch.setattr(app.sys.stdout, "fileno", lambda: 1, raising=False)

    code = cli.main(["history", "--json"])

    assert code == 1
    assert redirected == [1]  # later writes (and the flush at exit) go to /dev/null
    assert capsys.readouterr().err == ""


# -- item 10: narrow terminals keep the key columns ---------------------------------------------------


@pytest.mark.parametrize("width", [60, 80, 100])
def test_status_keeps_service_and_state_at_narrow_widths(width, monkeypatch):
    from breakwater.breaker import Breaker
    from breakwater.status_view import breaker_table

    out = narrow(monkeypatch, width)
    breakers = [
        Breaker("payment-eu-1", state="FORCED_OPEN", failure_count=3, last_transition_ms=1_700_000_000_000),
        Breaker("payment-api", state="OPEN", open_until_ms=1_700_000_030_000, trip_count=2),
    ]

    table, _ = breaker_table(breakers, width, now_ms=1_700_000_000_000)
    render.console.print(table)
    text = out.getvalue()

    assert max(len(line) for line in text.splitlines()) <= width
    assert "payment-eu-1" in text
    assert "FORCED_OPEN" in text
    assert any(line.split()[:2] == ["payment-api", "OPEN"] for line in text.splitlines())


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


def test_activity_lines_name_the_outcome():
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    queued = {
        "name": "o-1",
        "status": "SUCCEEDED",
        "output": '{"status": "queued", "reason": "circuit_open"}',
        "startDate": start,
        "stopDate": start + dt.timedelta(milliseconds=42),
    }
    failed = {"name": "o-2", "status": "FAILED", "error": "InvalidOrder", "startDate": start, "stopDate": start}

    assert activity_line(queued) == "execution o-1: queued (circuit_open), 42 ms"
    assert activity_line(failed) == "execution o-2: FAILED InvalidOrder, 0 ms"
    assert replay_line(PollResult(received=3, deleted=2, failed=["m"])) == (
        "replay batch: 3 received, 2 done, 1 back on the queue"
    )


@pytest.mark.parametrize(("flags", "reports"), [([], True), (["--quiet"], False)])
def test_quiet_turns_the_activity_lines_off(flags, reports, monkeypatch, restore_signals, capsys):
    import breakwater.local.server as server_module

    made: dict[str, Any] = {}

    class Recorded:
        def __init__(self, **kwargs: Any) -> None:
            made.update(kwargs)
            self.endpoint = "http://127.0.0.1:1"
            self.aws_limits = kwargs.get("aws_limits")

        def start(self) -> None:
            raise PortInUse("stop here")

        def stop(self) -> None:
            made["stopped"] = True

    monkeypatch.setattr(server_module, "LocalServer", Recorded)

    code = cli.main(["local", "up", *flags, "--lambda-endpoint", "http://127.0.0.1:3001"])

    assert code == 1
    assert (made["on_activity"] is not None) is reports
    assert made["lambda_endpoint"] == "http://127.0.0.1:3001"
    assert made["stopped"] is True
