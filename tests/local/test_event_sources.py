"""``local up`` runs the event sources of every stack deployed to it (issue 23, item 3), shown on the embedded stack.
(A source that cannot start: tests/unit/test_event_sources.py.)"""

from __future__ import annotations

from typing import Any

from breakwater.executions import wait
from breakwater.local.event_source import ScheduleSource, SqsEventSource, StreamEventSource
from breakwater.local.event_sources import AccountEventSources
from breakwater.local.stack import EmbeddedStack
from tests.unit.test_event_sources import _Events, _Paginator
from tests.workflow.helpers import order, queued


def test_every_stacks_mappings_and_schedules_are_found(embedded: EmbeddedStack, provider: Any) -> None:
    first, second = embedded.deploy(), embedded.deploy()
    sources = AccountEventSources(embedded.client)
    sources.refresh()
    functions = {key: getattr(source, "function_arn", "") for key, source in sources.sources.items()}
    for stack in (first, second):
        kinds = {type(sources.sources[key]) for key, arn in functions.items() if arn in stack.outputs.values()}
        assert kinds == {SqsEventSource, StreamEventSource, ScheduleSource}, stack.name


def test_a_second_stacks_queue_is_replayed(embedded: EmbeddedStack, provider: Any, clock: Any) -> None:
    # given: two stacks; the second one's order was queued in an outage
    first = embedded.deploy()
    second = embedded.deploy(FailureThreshold="1", CooldownSeconds="1")
    provider.configure(mode="down")
    waiting = order()
    assert embedded.run(second, waiting).output["status"] == "queued"
    provider.configure(mode="healthy")
    batches: list[str] = []
    # The session's account holds other tests' stacks too: this one runs only these two stacks' sources.
    client = only_functions(embedded, {first.outputs["ReplayFunctionArn"], second.outputs["ReplayFunctionArn"]})
    sources = AccountEventSources(client, on_sqs_batch=lambda arn, result: batches.append(arn))
    # when: the sources run, the retry delay of a failed call having passed
    clock.advance(3600)
    for _ in range(5):
        sources.poll_once()
    # then: the replay function of the second stack took the order, and the provider charged it
    assert second.outputs["ReplayFunctionArn"] in batches
    assert queued(embedded, second) == []
    sfn = embedded.client("stepfunctions")
    replays = [e for e in sfn.list_executions(stateMachineArn=second.state_machine_arn)["executions"]]
    results = [wait(sfn, e["executionArn"], timeout=60) for e in replays]  # the replay started an execution
    assert any(r.name.startswith("replay-") and (r.output or {}).get("status") == "charged" for r in results)
    assert waiting["orderId"] in provider.charged_orders()


def only_functions(embedded: EmbeddedStack, functions: set[str]) -> Any:
    """The session's clients, but Lambda lists only the mappings of ``functions`` and EventBridge no rule."""

    class Lambda:
        def __init__(self, real: Any) -> None:
            self.real = real

        def get_paginator(self, name: str) -> _Paginator:
            pages = self.real.get_paginator(name).paginate()
            mappings = [m for page in pages for m in page["EventSourceMappings"] if m["FunctionArn"] in functions]
            return _Paginator([{"EventSourceMappings": mappings}])

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

    def client(service: str) -> Any:
        if service == "lambda":
            return Lambda(embedded.client("lambda"))
        if service == "events":
            return _Events()
        return embedded.client(service)

    return client
