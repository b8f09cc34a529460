"""What a new user typed wrong gets one line naming the problem, never a traceback (issue 23, items 2 and 5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from breakwater import cli
from breakwater.local.provider import FakeProvider

ARN = "arn:aws:states:us-east-1:123456789012:execution:machine:name"


@pytest.fixture(scope="module")
def not_aws() -> Iterator[str]:
    """A server that is not an AWS endpoint: the fake provider (on local up, the port next to the endpoint's)."""
    provider = FakeProvider()
    provider.start()
    try:
        yield provider.url
    finally:
        provider.stop()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("command", [("status",), ("history", ARN), ("start",)])
def test_an_endpoint_that_is_not_aws_is_named_in_one_line(command: Any, not_aws: str, capsys: Any) -> None:
    code, err = run(capsys, *command, "--endpoint-url", not_aws)
    line = one_error_line(err)
    assert code == 1
    assert line.startswith(f"breakwater: error: {not_aws} answered")
    assert "`breakwater local up` prints its own" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--endpoint-url", "notaurl"), "'notaurl' is not an endpoint URL"),
        (("--endpoint-url", "ftp://127.0.0.1:1"), "is not an endpoint URL"),
        (("--endpoint-url", "http://127.0.0.1:99999"), "is not an endpoint URL"),
        (("--region", "mars-west-9"), "'mars-west-9' is not an AWS region"),
    ],
)
def test_a_malformed_endpoint_or_unknown_region_is_a_usage_error(args: Any, message: str, capsys: Any) -> None:
    code, err = run(capsys, "status", *args)
    assert code == 2
    assert message in one_error_line(err)


@pytest.mark.parametrize("timeout", ["-5", "0", "nan", "soon"])
def test_start_refuses_a_timeout_that_is_not_above_zero(timeout: str, capsys: Any) -> None:
    code, err = run(capsys, "start", "--timeout", timeout, "--endpoint-url", "http://127.0.0.1:1")
    assert code == 2
    assert f"'{timeout}' is not a number of seconds above 0" in one_error_line(err)


def test_the_rate_story_refuses_out_instead_of_writing_nothing(tmp_path: Any, capsys: Any) -> None:
    code, err = run(capsys, "demo", "--story", "rate", "--out", str(tmp_path / "pictures"))
    assert code == 2
    assert "--out: the rate story draws no picture" in one_error_line(err)
    assert not (tmp_path / "pictures").exists()


def test_help_shows_no_restructuredtext_markup(capsys: Any) -> None:
    for command in ([], ["local", "up"], ["start"], ["status"], ["demo"], ["console"]):
        with pytest.raises(SystemExit) as exited:
            cli.main([*command, "--help"])
        out = capsys.readouterr().out
        assert exited.value.code == 0
        assert "``" not in out, command
        assert out.startswith("usage: breakwater")
