"""Reading the local stack while it is being deployed (issue 23, item 10), and the DynamoDB Streams API in
process: the ``cloudformation_reads`` and ``streams_endpoint`` patches, each shown needed."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.awslambda import models as lambda_models

from breakwater.aws import Stack, StackNotFound, Target, find_stack
from breakwater.local import compat
from breakwater.local.event_source import SqsEventSource
from breakwater.local.stack import EmbeddedStack

WAIT_SECONDS = 60.0


class HeldCreation:
    """Holds CreateStack inside the creation of the stack's replay function until released."""

    def __init__(self, stack_name: str) -> None:
        self.stack_name = stack_name
        self.inside = threading.Event()
        self.released = threading.Event()
        self.creators: list[str] = []
        self._original = lambda_models.LambdaFunction.__dict__["create_from_cloudformation_json"]

    def create(self, cls: Any, resource_name: str, *args: Any, **kwargs: Any) -> Any:
        if resource_name.startswith(f"{self.stack_name}-ReplayFunction-"):
            self.creators.append(threading.current_thread().name)
            if not self.inside.is_set():
                self.inside.set()
                self.released.wait(WAIT_SECONDS)
        return self._original.__func__(cls, resource_name, *args, **kwargs)

    def __enter__(self) -> HeldCreation:
        lambda_models.LambdaFunction.create_from_cloudformation_json = classmethod(self.create)  # type: ignore[assignment]
        return self

    def __exit__(self, *_: Any) -> None:
        self.released.set()
        lambda_models.LambdaFunction.create_from_cloudformation_json = self._original  # type: ignore[method-assign]


@pytest.fixture
def racing(embedded: EmbeddedStack, provider: Any) -> Iterator[tuple[str, HeldCreation, Callable[[], Stack]]]:
    """A deploy held in the middle of CreateStack (in a thread of its own), and how to let it finish."""
    embedded.deploy()  # built once, so the held deploy is only its CloudFormation part
    name = f"racing-{uuid.uuid4().hex[:6]}"
    deployed: dict[str, Stack] = {}
    with HeldCreation(name) as held:
        creator = threading.Thread(target=lambda: deployed.setdefault("stack", embedded.deploy(name)), name="creator")
        creator.start()

        def finish() -> Stack:
            held.released.set()
            creator.join(WAIT_SECONDS)
            return deployed["stack"]

        assert held.inside.wait(WAIT_SECONDS)
        yield name, held, finish
        finish()


def replay_mapping_and_output(embedded: EmbeddedStack, outputs: dict[str, str]) -> tuple[str, str]:
    mappings = embedded.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    queue = [m for m in mappings if m["EventSourceArn"].endswith(outputs["FallbackQueueUrl"].rsplit("/", 1)[-1])]
    return queue[0]["FunctionArn"], outputs["ReplayFunctionArn"]


def test_a_stack_read_while_it_is_created_shows_no_outputs_and_makes_no_twin(
    embedded: EmbeddedStack, racing: Any
) -> None:
    name, held, finish = racing
    # when: a reader asks for the stack in the middle of its creation (as an early `breakwater start` did)
    described = embedded.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    with pytest.raises(StackNotFound, match=f"stack {name} at AWS is CREATE_IN_PROGRESS"):
        find_stack(Target(region=embedded.region), name)
    stack = finish()
    # then: no outputs yet, as on AWS; and once created, the queue's mapping calls the stack's own replay function
    assert described["StackStatus"] == "CREATE_IN_PROGRESS"
    assert "Outputs" not in described
    mapped, output = replay_mapping_and_output(embedded, stack.outputs)
    assert mapped == output
    assert held.creators == ["creator"]
    SqsEventSource.for_function(embedded.client("lambda"), embedded.client("sqs"), output)  # what local up does


def test_without_the_patch_the_reader_creates_a_twin_replay_function(embedded: EmbeddedStack, racing: Any) -> None:
    name, held, finish = racing
    with compat.disabled("cloudformation_reads"):
        described = embedded.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    stack = finish()
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    mapped, _ = replay_mapping_and_output(embedded, stack.outputs)
    assert held.creators == ["creator", "MainThread"]  # the reader created the function a second time
    assert outputs["ReplayFunctionArn"] != mapped
    with pytest.raises(LookupError, match="no SQS event source mapping"):
        SqsEventSource.for_function(embedded.client("lambda"), embedded.client("sqs"), outputs["ReplayFunctionArn"])
