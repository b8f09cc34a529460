"""The console without a browser: host and token checks, outcomes, marks, the graph's geometry, the app's answers."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from breakwater.aws import Target
from breakwater.breaker_record import Transition
from breakwater.console import ConsoleApp, Settings, add_parser, mount_local
from breakwater.console.app import CONFIRM_FIELD
from breakwater.console.history import Mark, state_marks, table
from breakwater.console.model import BadRequest, NotFound, duration_text, outcome_of, valid_execution_arn
from breakwater.console.picture import picture, timeline
from breakwater.console.provider import parse_settings
from breakwater.console.security import (
    CONTENT_SECURITY_POLICY,
    CSRF_FIELD,
    CsrfToken,
    host_is_loopback,
    url_is_loopback,
)
from breakwater.graph import edges
from breakwater.template import load_definition
from breakwater.transition_history import UNKNOWN

T0 = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:4566", "localhost", "LOCALHOST:80", "[::1]", "[::1]:4566", "127.3.4.5:1"],
)
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert host_is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "evil.example",
        "evil.example:4566",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "10.0.0.1",
        "0.0.0.0",
        "[::2]:80",
        "[localhost]",
        "127.0.0.1:port",
        "127.0.0.1:99999",
        "[::1]junk",
    ],
)
def test_other_hosts_are_refused(host: str | None) -> None:
    assert not host_is_loopback(host)


def test_only_a_loopback_endpoint_counts_as_local() -> None:
    assert url_is_loopback("http://127.0.0.1:4566")
    assert url_is_loopback("http://localhost:4566/")
    assert not url_is_loopback(None)
    assert not url_is_loopback("https://states.us-east-1.amazonaws.com")


def test_the_token_matches_only_itself() -> None:
    token = CsrfToken()
    assert token.matches(token.value)
    assert not token.matches(None)
    assert not token.matches("")
    assert not token.matches(token.value + "x")
    assert CsrfToken().value != token.value


@pytest.mark.parametrize(
    ("status", "output", "error", "expected"),
    [
        ("SUCCEEDED", {"status": "charged"}, None, ("charged", "charged")),
        ("SUCCEEDED", {"status": "declined", "reason": "card_declined"}, None, ("declined", "declined")),
        ("SUCCEEDED", {"status": "queued", "reason": "probe_busy"}, None, ("queued", "queued (probe_busy)")),
        ("FAILED", None, "FallbackUnavailable", ("failed", "FallbackUnavailable")),
        ("TIMED_OUT", None, None, ("failed", "timed_out")),
        ("RUNNING", None, None, ("running", "running")),
        ("SUCCEEDED", ["not", "an", "order"], None, ("other", "-")),
    ],
)
def test_the_outcome_names_what_became_of_the_order(
    status: str, output: Any, error: str | None, expected: tuple[str, str]
) -> None:
    outcome = outcome_of(status, output, error)
    assert (outcome.kind, outcome.label) == expected


def test_durations_read_as_people_say_them() -> None:
    assert duration_text(T0, T0 + dt.timedelta(milliseconds=45)) == "45 ms"
    assert duration_text(T0, T0 + dt.timedelta(seconds=4.5)) == "4.5 s"
    assert duration_text(T0, T0 + dt.timedelta(seconds=125)) == "2 min 5 s"
    assert duration_text(T0, None, now=T0 + dt.timedelta(seconds=2)) == "2.0 s"


def test_an_arn_that_is_not_an_execution_arn_is_not_found() -> None:
    good = "arn:aws:states:us-east-1:123456789012:execution:breakwater-Machine-ABC:bw-1234"
    assert valid_execution_arn(good) == good
    for bad in ("garbage", good.replace("execution", "stateMachine"), good + "/x", "<script>"):
        with pytest.raises(NotFound, match="not a Step Functions execution ARN"):
            valid_execution_arn(bad)


def _event(event_id: int, kind: str, seconds: float, **details: Any) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "timestamp": T0 + dt.timedelta(seconds=seconds), **details}


def _entered(event_id: int, kind: str, name: str, seconds: float) -> dict[str, Any]:
    return _event(event_id, f"{kind}StateEntered", seconds, stateEnteredEventDetails={"name": name, "input": "{}"})


def _exited(event_id: int, kind: str, name: str, seconds: float) -> dict[str, Any]:
    return _event(event_id, f"{kind}StateExited", seconds, stateExitedEventDetails={"name": name, "output": "{}"})


CAUGHT_THEN_QUEUED = [
    _event(1, "ExecutionStarted", 0, executionStartedEventDetails={"input": '{"orderId": "o-1"}'}),
    _entered(2, "Task", "Call payment provider", 0.1),
    _event(3, "TaskFailed", 0.2, taskFailedEventDetails={"error": "PaymentServiceUnavailable", "cause": "503"}),
    _exited(4, "Task", "Call payment provider", 0.2),
    _entered(5, "Task", "Queue order for later", 0.3),
]


def test_a_caught_error_marks_its_state_and_the_state_still_running_is_current() -> None:
    marks = state_marks(CAUGHT_THEN_QUEUED, "RUNNING")
    assert marks == {"Call payment provider": Mark.CAUGHT, "Queue order for later": Mark.CURRENT}


def test_the_state_an_execution_failed_in_is_marked_failed() -> None:
    events = [*CAUGHT_THEN_QUEUED, _event(6, "ExecutionFailed", 0.4, executionFailedEventDetails={"error": "X"})]
    assert state_marks(events, "FAILED")["Queue order for later"] == Mark.FAILED


def test_a_retry_that_works_leaves_the_state_succeeded() -> None:
    events = [
        _entered(1, "Task", "Read breaker state", 0),
        _event(2, "TaskFailed", 0.1, taskFailedEventDetails={"error": "DynamoDB.ServiceException"}),
        _event(3, "TaskSucceeded", 0.3, taskSucceededEventDetails={"output": "{}"}),
        _exited(4, "Task", "Read breaker state", 0.3),
    ]
    assert state_marks(events, "SUCCEEDED") == {"Read breaker state": Mark.SUCCEEDED}


def test_each_event_row_opens_to_its_input_output_error_and_cause() -> None:
    rows = table(CAUGHT_THEN_QUEUED)
    assert [(r.id, r.type, r.step, r.elapsed_ms) for r in rows][:3] == [
        (1, "ExecutionStarted", "", 0),
        (2, "TaskStateEntered", "Call payment provider", 100),
        (3, "TaskFailed", "Call payment provider", 200),
    ]
    assert rows[0].details == (("Input", '{\n  "orderId": "o-1"\n}'),)
    assert rows[2].details == (("Error", "PaymentServiceUnavailable"), ("Cause", "503"))
    assert rows[2].failed and not rows[1].failed


def test_the_graph_has_a_box_per_state_and_takes_exactly_the_path() -> None:
    definition = load_definition()
    path = ["Read breaker state", "Is the order valid and the circuit closed?", "Call payment provider"]
    marks = {name: Mark.SUCCEEDED for name in path}
    drawn = picture(definition, marks, path)
    assert {box.name for box in drawn.boxes} == set(definition["States"])
    assert {box.name for box in drawn.boxes if box.mark} == set(path)
    assert {(line.source, line.target) for line in drawn.lines if line.taken} == {
        (path[0], path[1]),
        (path[1], path[2]),
    }
    assert len(drawn.lines) == len([e for e in edges(definition) if e[0] != e[1]])
    assert drawn.lines[-1].taken  # drawn last, over the others
    for box in drawn.boxes:  # every box inside the picture
        assert box.left >= 0 and box.left + box.width <= drawn.width
        assert box.top >= 0 and box.bottom <= drawn.height


def moved(at: dt.datetime, service: str, before: str, after: str, version: int = 1) -> Transition:
    return Transition(service, before, after, version, int(at.timestamp() * 1000), None)


def test_a_timeline_strip_per_breaker_runs_from_its_first_transition_to_now() -> None:
    minute = dt.timedelta(minutes=1)
    changes = [
        moved(T0, "a", UNKNOWN, "OPEN"),
        moved(T0 + 2 * minute, "a", "OPEN", "CLOSED", 2),
        moved(T0 + 5 * minute, "b", "CLOSED", "HALF_OPEN"),
    ]
    drawn = timeline(changes, end=T0 + 10 * minute, width=100)
    assert drawn is not None
    assert [s.service for s in drawn.strips] == ["a", "b"]
    a, b = drawn.strips
    assert [(g.state, g.x, g.width) for g in a.segments] == [("OPEN", 0.0, 20.0), ("CLOSED", 20.0, 80.0)]
    # b was CLOSED before its first move: from the axis' start
    assert [(g.state, g.x, g.width) for g in b.segments] == [("CLOSED", 0.0, 50.0), ("HALF_OPEN", 50.0, 50.0)]
    assert timeline([], end=T0) is None
    recent = timeline([moved(T0, "a", UNKNOWN, "OPEN")], end=T0 + minute, width=100)
    assert recent is not None  # the axis reaches back 10 minutes: one minute of OPEN is a tenth of it
    assert [(g.x, g.width) for g in recent.strips[0].segments] == [(90.0, 10.0)]
    later = timeline(changes, end=T0 + 9 * minute + dt.timedelta(seconds=1), width=100)
    assert later == drawn  # the axis ends at the next whole minute: the picture moves once a minute


def test_a_reopen_shows_as_three_segments_at_their_milliseconds() -> None:
    second = dt.timedelta(seconds=1)
    changes = [
        moved(T0 + 0.25 * second, "a", "CLOSED", "OPEN", 1),
        moved(T0 + 30.5 * second, "a", "OPEN", "HALF_OPEN", 2),
        moved(T0 + 30.75 * second, "a", "HALF_OPEN", "OPEN", 3),
    ]
    drawn = timeline(changes, end=T0 + 600 * second, width=600)
    assert drawn is not None
    segments = drawn.strips[0].segments
    assert [g.state for g in segments] == ["CLOSED", "OPEN", "HALF_OPEN", "OPEN"]
    assert [g.start for g in segments[1:]] == [T0 + 0.25 * second, T0 + 30.5 * second, T0 + 30.75 * second]


def test_the_provider_form_is_checked_before_it_is_sent() -> None:
    assert parse_settings({"mode": "slow", "delaySeconds": "1.5", "failureRate": ""}) == {
        "mode": "slow",
        "delaySeconds": 1.5,
    }
    with pytest.raises(BadRequest, match="mode 'broken'"):
        parse_settings({"mode": "broken"})
    with pytest.raises(BadRequest, match=r"retryAfterSeconds '2\.5': must be an integer"):
        parse_settings({"mode": "ratelimited", "retryAfterSeconds": "2.5"})


# -- the WSGI app, before it reads anything ------------------------------------------------------------


def _client(**settings: Any) -> tuple[ConsoleApp, Client]:
    settings.setdefault("target", Target(endpoint_url="http://127.0.0.1:9", region="us-east-1"))
    app = ConsoleApp(Settings(stack_name="breakwater", **settings))
    return app, Client(app)


def test_a_foreign_host_is_refused_before_anything_is_read() -> None:
    _, client = _client()
    response = client.get("/breakers", headers={"Host": "attacker.example:4566"})
    assert response.status_code == 403
    assert "loopback Host" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_a_post_without_the_token_or_from_another_origin_is_refused() -> None:
    app, client = _client()
    local = {"Host": "127.0.0.1:4566"}
    assert client.post("/breakers/payment-api/trip", headers=local, data={CONFIRM_FIELD: "yes"}).status_code == 403
    other_origin = {**local, "Origin": "http://attacker.example"}
    answer = client.post("/provider/reset", headers=other_origin, data={CSRF_FIELD: app.token.value})
    assert answer.status_code == 403
    assert "another origin" in answer.get_data(as_text=True)


def test_against_aws_a_post_with_the_token_is_still_refused_without_allow_writes() -> None:
    app, client = _client(target=Target(region="us-east-1"))
    assert not app.settings.writable
    answer = client.post(
        "/breakers/payment-api/trip", headers={"Host": "localhost"}, data={CSRF_FIELD: app.token.value}
    )
    assert answer.status_code == 403
    assert "--allow-writes" in answer.get_data(as_text=True)
    assert ConsoleApp(Settings(Target(region="us-east-1"), "breakwater", allow_writes=True)).settings.writable


def test_unknown_pages_and_static_files_are_clear_not_found_pages() -> None:
    _, client = _client()
    for path in ("/nothing-here", "/static/secrets.txt", "/static/..%2Fapp.py"):
        answer = client.get(path, headers={"Host": "localhost"})
        assert answer.status_code == 404, path
        assert "Not found" in answer.get_data(as_text=True)
    script = client.get("/static/console.js", headers={"Host": "localhost"})
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"


def test_an_unknown_filter_is_a_bad_request_that_names_the_choices() -> None:
    _, client = _client()
    answer = client.get("/?status=DONE", headers={"Host": "localhost"})
    assert answer.status_code == 400
    assert "status &#39;DONE&#39;: must be one of RUNNING, ABORTED, FAILED" in answer.get_data(as_text=True)
    assert client.get("/?outcome=lost", headers={"Host": "localhost"}).status_code == 400


def test_an_unreachable_endpoint_is_a_clear_error_page_not_a_trace() -> None:
    _, client = _client()  # port 9 on loopback: nothing listens
    answer = client.get("/", headers={"Host": "localhost"})
    assert answer.status_code == 502
    text = answer.get_data(as_text=True)
    assert "Cannot read the stack" in text or "AWS error" in text
    assert "Traceback" not in text


# -- wiring into the CLI and local up --------------------------------------------------------------------


def test_the_console_command_takes_the_aws_options_port_and_allow_writes() -> None:
    aws = argparse.ArgumentParser(add_help=False)
    aws.add_argument("--endpoint-url")
    aws.add_argument("--region")
    aws.add_argument("--profile")
    aws.add_argument("--stack-name")
    parser = argparse.ArgumentParser(prog="breakwater")
    add_parser(parser.add_subparsers(dest="command"), aws)
    args = parser.parse_args(["console", "--port", "0", "--allow-writes", "--endpoint-url", "http://127.0.0.1:1"])
    assert (args.port, args.allow_writes, args.endpoint_url, args.provider_url) == (0, True, "http://127.0.0.1:1", None)
    assert callable(args.handler)
    with pytest.raises(SystemExit):
        parser.parse_args(["console", "--port", "70000"])


def test_mount_local_serves_the_console_for_the_local_servers_stack_and_provider() -> None:
    class Provider:
        url = "http://127.0.0.1:4567"

    class Server:
        endpoint = "http://127.0.0.1:4566"
        region = "us-east-1"
        stack_name = "breakwater"
        provider = Provider()
        mounted: dict[str, Any] = {}

        def mount(self, prefix: str, app: Any) -> str:
            self.mounted[prefix] = app
            return self.endpoint + prefix

    server = Server()
    assert mount_local(server) == "http://127.0.0.1:4566/console"
    app = server.mounted["/console"]
    assert isinstance(app, ConsoleApp)
    assert app.settings.writable and app.settings.local
    assert app.settings.provider_url == "http://127.0.0.1:4567"
    assert app.settings.target.endpoint == "http://127.0.0.1:4566"


def test_the_breaker_states_colours_come_from_the_record_module() -> None:
    from breakwater.breaker_record import COLOUR, BreakerState

    _, client = _client()
    sheet = client.get("/static/states.css", headers={"Host": "localhost"})
    assert sheet.status_code == 200
    assert sheet.mimetype == "text/css"
    css = sheet.get_data(as_text=True)
    for state in BreakerState:
        assert f".breaker-state.{state.lower()} {{ color: {COLOUR[state]}; }}" in css
    static = Path(__file__).resolve().parents[2] / "breakwater" / "console" / "static" / "console.css"
    assert ".breaker-state." not in static.read_text()  # no second copy of a state's colour
