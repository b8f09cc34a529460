"""The local Lambda runtime: a process per execution environment, reporting as Lambda does."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine

from breakwater.local.runtime import FunctionSpec, Runtime
from breakwater.local.runtime import pool as lambda_runtime
from tests.eventually import eventually

RUNTIME = Runtime()  # this module's own runtime (a local stack owns one; these tests drive it bare)
invoke = RUNTIME.invoke


def function(tmp_path: Path, body: str, name: str = "fn", **spec: Any) -> FunctionSpec:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(body))
    return FunctionSpec(name=f"{name}-{tmp_path.name}", handler="app.handler", code_dir=folder, **spec)


def test_result_is_returned_as_the_payload(tmp_path):
    spec = function(tmp_path, "def handler(event, context):\n    return {'echo': event['x'] * 2}\n")

    result = invoke(spec, {"x": 21})

    assert not result.failed
    assert result.payload == {"echo": 42}


def test_exception_is_reported_by_class_name_with_message_and_its_own_frames(tmp_path):
    spec = function(
        tmp_path,
        """
        class PaymentServiceUnavailable(Exception):
            pass

        def handler(event, context):
            raise PaymentServiceUnavailable("provider answered HTTP 503")
        """,
    )

    result = invoke(spec, {})

    assert result.error_type == "PaymentServiceUnavailable"
    assert result.payload["errorType"] == "PaymentServiceUnavailable"
    assert result.payload["errorMessage"] == "provider answered HTTP 503"
    assert any("app.py" in line for line in result.payload["stackTrace"])
    assert not any("lambda_bootstrap" in line for line in result.payload["stackTrace"])


def test_a_stack_trace_names_the_task_root_as_lambda_does_one_line_per_frame(tmp_path):
    # As Lambda writes it (recorded 2024-11-28 against AWS, tests/parity/recordings/lambda_service_errors.json).
    spec = function(tmp_path, 'def handler(event, context):\n    raise Exception("Some exception was raised.")\n')

    result = invoke(spec, {})

    assert result.payload["stackTrace"] == [
        '  File "/var/task/app.py", line 2, in handler\n    raise Exception("Some exception was raised.")\n'
    ]


def test_bytes_returned_by_a_handler_are_the_payload_as_they_are(tmp_path):
    # The Python runtime sends bytes unencoded (recorded: test_invoke_bytes_payload answers "HelloWorld!").
    spec = function(tmp_path, "def handler(event, context):\n    return b'\"HelloWorld!\"'\n")

    result = invoke(spec, {})

    assert not result.failed
    assert result.payload_bytes() == b'"HelloWorld!"'


def test_handler_running_past_the_timeout_is_stopped_and_reported_as_sandbox_timeout(tmp_path):
    marker = tmp_path / "finished"
    spec = function(
        tmp_path,
        f"""
        import os, time
        def handler(event, context):
            time.sleep(event["sleep"])
            open({str(marker)!r}, "w").write(str(os.getpid()))
            return os.getpid()
        """,
        timeout_seconds=0.5,
    )

    result = invoke(spec, {"sleep": 3})
    time.sleep(3)  # longer than the handler would have slept: it must not have finished

    assert result.error_type == "Sandbox.Timedout"
    assert result.payload["errorMessage"] == "Task timed out after 0.50 seconds"
    assert not marker.exists()
    assert invoke(spec, {"sleep": 0}).payload != result.payload  # a new environment answers the next call


def test_context_reports_the_time_left_before_the_timeout(tmp_path):
    spec = function(
        tmp_path,
        "def handler(event, context):\n    return [context.get_remaining_time_in_millis(), context.function_name]\n",
        timeout_seconds=3,
    )

    remaining, name = invoke(spec, {}).payload

    assert 2500 < remaining <= 3000
    assert name == spec.name


def test_the_handler_sees_its_own_environment_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENT_API_URL", "http://outer")
    monkeypatch.setenv("SOMETHING_OF_THE_CALLER", "secret")
    spec = function(
        tmp_path,
        """
        import os
        def handler(event, context):
            return {k: os.environ.get(k) for k in
                    ("PAYMENT_API_URL", "SOMETHING_OF_THE_CALLER", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER")}
        """,
        environment={"PAYMENT_API_URL": "http://inner"},
    )

    result = invoke(spec, {})

    assert result.payload == {
        "PAYMENT_API_URL": "http://inner",
        "SOMETHING_OF_THE_CALLER": None,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "_HANDLER": "app.handler",
    }


def test_functions_running_at_once_never_see_each_others_variables(tmp_path):
    body = """
    import os, time
    def handler(event, context):
        seen = set()
        for _ in range(20):
            seen.add(os.environ['WHO'])
            time.sleep(0.002)
        return sorted(seen)
    """
    first = function(tmp_path, body, name="first", environment={"WHO": "first"})
    second = function(tmp_path, body, name="second", environment={"WHO": "second"})
    results: dict[str, Any] = {}

    def call(spec: FunctionSpec, label: str) -> None:
        results[label] = invoke(spec, {}).payload

    threads = [threading.Thread(target=call, args=(s, f"{s.name}-{i}")) for i, s in enumerate((first, second) * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert sorted(map(tuple, results.values())) == [("first",), ("first",), ("second",), ("second",)]


def test_only_the_task_root_and_the_runtime_folder_are_importable(tmp_path):
    # yaml is installed where these tests run, but not in the function's build: it must not import.
    spec = function(tmp_path, "import yaml\ndef handler(event, context):\n    return 1\n")

    result = invoke(spec, {})

    assert result.error_type == "Runtime.ImportModuleError"
    assert result.payload["errorMessage"] == "Unable to import module 'app': No module named 'yaml'"


def test_the_runtime_folder_is_importable_beside_the_task_root(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / "providedlib.py").write_text("VALUE = 'from the runtime'\n")
    spec = function(
        tmp_path,
        "import providedlib\ndef handler(event, context):\n    return providedlib.VALUE\n",
        runtime_dir=runtime,
    )

    assert invoke(spec, {}).payload == "from the runtime"


def test_init_failures_are_named_as_the_python_runtime_names_them(tmp_path):
    missing = function(tmp_path, "def other(event, context):\n    return 1\n", name="missing")
    broken = function(tmp_path, "def handler(event, context)\n    return 1\n", name="broken")
    crashing = function(tmp_path, "raise KeyError('CONFIG')\ndef handler(e, c):\n    return 1\n", name="crashing")

    assert invoke(missing, {}).payload["errorType"] == "Runtime.HandlerNotFound"
    assert invoke(broken, {}).payload["errorType"] == "Runtime.UserCodeSyntaxError"
    assert invoke(crashing, {}).payload["errorType"] == "KeyError"


def test_a_result_that_is_not_json_is_a_marshal_error(tmp_path):
    spec = function(tmp_path, "def handler(event, context):\n    return {1, 2}\n")

    result = invoke(spec, {})

    assert result.error_type == "Runtime.MarshalError"


def test_a_warm_environment_keeps_its_module_state(tmp_path):
    spec = function(
        tmp_path,
        """
        import os
        CALLS = []
        def handler(event, context):
            CALLS.append(1)
            return [os.getpid(), len(CALLS)]
        """,
    )

    first, second = invoke(spec, {}).payload, invoke(spec, {}).payload

    assert first[0] == second[0]
    assert (first[1], second[1]) == (1, 2)


def test_concurrent_invocations_use_at_most_the_bounded_number_of_environments(tmp_path, monkeypatch):
    monkeypatch.setattr(lambda_runtime, "MAX_ENVIRONMENTS", 2)
    spec = function(tmp_path, "import os, time\ndef handler(e, c):\n    time.sleep(0.2)\n    return os.getpid()\n")
    pids: list[int] = []
    threads = [threading.Thread(target=lambda: pids.append(invoke(spec, {}).payload)) for _ in range(6)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(pids) == 6
    assert len(set(pids)) <= 2


def test_the_invokers_clock_reaches_the_function(tmp_path):
    spec = function(tmp_path, "import time\ndef handler(event, context):\n    return time.time()\n")
    moment = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)

    with time_machine.travel(moment, tick=False):
        seen = invoke(spec, {}).payload

    assert abs(seen - moment.timestamp()) < 1.0
    assert abs(invoke(spec, {}).payload - time.time()) < 1.0  # back to the real clock


class _InvokeApi(BaseHTTPRequestHandler):
    """The Lambda Invoke API of a routed endpoint (e.g. sam local start-lambda), recording what it was asked."""

    calls: list[tuple[str, Any]] = []
    error_header = True  # sam local start-lambda 1.170 leaves it out when awslambdaric adds requestId

    def do_POST(self) -> None:
        name = self.path.split("/functions/", 1)[1].split("/", 1)[0]
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append((name, event))
        body = json.dumps(
            {"errorType": "PaymentDeclined", "errorMessage": "card_declined", "requestId": "r-1", "stackTrace": []}
        ).encode()
        self.send_response(200)
        if self.error_header:
            self.send_header("X-Amz-Function-Error", "Unhandled")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return None


@pytest.fixture
def routed() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _InvokeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    runtime = Runtime(remote_endpoint=f"http://127.0.0.1:{server.server_port}")
    _InvokeApi.calls = []
    _InvokeApi.error_header = True
    yield runtime
    server.shutdown()
    server.server_close()


def test_routed_invocations_go_to_the_endpoint_by_logical_id(tmp_path, routed):
    spec = function(tmp_path, "def handler(e, c):\n    return 'ran here'\n", logical_id="PaymentFunction")

    result = routed.invoke(spec, {"orderId": "ord-1"})

    assert _InvokeApi.calls == [("PaymentFunction", {"orderId": "ord-1"})]
    assert result.error_type == "PaymentDeclined"


def test_a_routed_error_payload_without_the_error_header_is_still_an_error(tmp_path, routed):
    _InvokeApi.error_header = False
    spec = function(tmp_path, "def handler(e, c):\n    return 'ran here'\n", logical_id="PaymentFunction")

    result = routed.invoke(spec, {"orderId": "ord-2"})

    assert result.error_type == "PaymentDeclined"


def held_function(tmp_path: Path, gate: Path, **config: Any) -> FunctionSpec:
    """A function that answers its process id, and holds an event with ``hold`` until ``gate`` exists."""
    return function(
        tmp_path,
        f"""
        import os, time
        from pathlib import Path
        def handler(e, c):
            while e.get('hold') and not Path({str(gate)!r}).exists():
                time.sleep(0.01)
            return os.getpid()
        """,
        **config,
    )


def test_waiting_for_idle_returns_once_the_running_invocation_ends(tmp_path):
    # The handler holds until the test lets it go, so no pace of the machine decides what is running when.
    gate = tmp_path / "go"
    spec = held_function(tmp_path, gate)
    invoke(spec, {})  # a warm environment
    worker = threading.Thread(target=invoke, args=(spec, {"hold": True}))
    worker.start()
    eventually(RUNTIME.busy, "the held invocation to run", until=lambda busy: busy >= 1)

    assert not RUNTIME.wait_idle(timeout=0.2)  # still held
    gate.touch()
    assert RUNTIME.wait_idle(timeout=60)
    assert RUNTIME.busy() == 0
    worker.join(60)


def test_invocations_past_the_reserved_concurrency_are_refused_and_the_rest_spread_over_warm_environments(tmp_path):
    # given: a function with reserved concurrency 2 whose handler holds until the test lets it go
    gate = tmp_path / "go"
    spec = held_function(tmp_path, gate, reserved_concurrency=2)
    answers: list[int] = []
    refused: list[BaseException] = []

    def call() -> None:
        try:
            answers.append(invoke(spec, {"hold": True}).payload)
        except lambda_runtime.ReservedConcurrencyExceeded as exc:
            refused.append(exc)

    # when: four invocations at once, two of them still held
    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    eventually(lambda: len(refused), "two invocations refused past the reservation", until=lambda count: count >= 2)
    refused_while_held = len(refused)
    gate.touch()
    for thread in threads:
        thread.join(60)
    later = {invoke(spec, {}).payload for _ in range(20)}

    # then: the reservation held two, Lambda refused the other two, and later calls reach both warm environments
    assert refused_while_held == 2
    assert len(answers) == 2 and len(set(answers)) == 2
    assert later == set(answers)
