"""The operator CLI's failure modes and output (issue 10): one-line errors, exit codes, literal values. (Against the
embedded stack: tests/local/test_cli.py.)"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from breakwater import cli
from breakwater.cli import local, parser, render
from breakwater.executions import ExecutionResult
from breakwater.local.event_source import PollResult
from breakwater.local.server import LocalServer, PortInUse, activity_line, replay_line
from tests.cli_helpers import narrow, signals_restored


@pytest.fixture
def restore_signals() -> Iterator[None]:
    with signals_restored():
        yield


# -- item 1: ports -----------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--port", "--provider-port"])
@pytest.mark.parametrize("value", ["99999", "0", "http"])
def test_a_port_out_of_range_is_a_usage_error(flag, value, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["local", "up", flag, value])

    assert exited.value.code == 2
    assert "is not a port number (1 to 65535)" in capsys.readouterr().err


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


# -- item 7: one-line errors, exit codes (a closed pipe: tests/e2e/test_local_up.py) ---------------------


def test_a_long_error_with_newlines_stays_one_line(capsys):
    render.error("first line\nsecond " + "x" * 300)

    err = capsys.readouterr().err

    assert err.count("\n") == 1
    assert err.startswith("breakwater: error: first line second xxx")


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
