"""Patch ``evaluation_failed``: a JSONata expression that fails in ``Output`` or ``Assign`` ends the execution with
no ``EvaluationFailed`` event, and every such event lacks what AWS writes in it.

AWS (recorded: LocalStack's snapshots of ``test_assign_reference_variables``, ``test_output``,
``test_math_operations_jsonata``; see docs/local-parity.md), for ``"Output": {"result": "{% $doesNotExist %}"}``::

    PassStateEntered  (id 2, previous 0)
    EvaluationFailed  (id 3, previous 0)  error States.QueryEvaluationError, location "Output/result",
                      state "State0", cause "An error occurred while executing the state 'State0' (entered at
                      the event id #2). The JSONata expression '$doesNotExist' specified for the field
                      'Output/result' returned nothing (undefined)."
    ExecutionFailed   (id 4, previous 3)  the same error and cause

So: every field an expression is written in gets its location (``Output/result``, ``Assign/name``,
``Arguments/FunctionName``, ``Items``, ...), found once when the definition is parsed; the evaluator names it in
the cause; the state publishes the ``EvaluationFailed`` event where moto did not (``Output``, ``Assign`` and
the other fields outside a task's own processing), with the state, the location and the state's prefix; and
the event follows the one before the state was entered, as AWS's do.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_binding import AssignTemplateBinding
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_array import (
    AssignTemplateValueArray,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_binding import JSONataTemplateBinding
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_value_array import (
    JSONataTemplateValueArray,
)
from moto.stepfunctions.parser.asl.component.common.outputdecl import Output
from moto.stepfunctions.parser.asl.component.common.parargs import Arguments
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata
from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import HeartbeatSecondsJSONata
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSecondsJSONata
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison import ConditionStringJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.max_items_decl import (
    MaxItemsStringJSONata,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.items.items import ItemsJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import MaxConcurrencyJSONata
from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
    ToleratedFailureCountStringJSONata,
    ToleratedFailurePercentageStringJSONata,
)
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import SecondsJSONata
from moto.stepfunctions.parser.asl.eval.event import event_manager
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from breakwater.local.compat.base import Patch
from breakwater.local.compat.history import entered_event

LOCATION = "_breakwater_location"
"""The attribute of a ``StringJSONata`` node that holds the field its expression is written in."""

# The fields whose value may be an expression, as AWS names them in ``location``.
FIELDS: tuple[tuple[type, str], ...] = (
    (Output, "Output"),
    (AssignDecl, "Assign"),
    (Arguments, "Arguments"),
    (ItemsJSONata, "Items"),
    (ConditionStringJSONata, "Condition"),
    (SecondsJSONata, "Seconds"),
    (TimeoutSecondsJSONata, "TimeoutSeconds"),
    (HeartbeatSecondsJSONata, "HeartbeatSeconds"),
    (MaxConcurrencyJSONata, "MaxConcurrency"),
    (MaxItemsStringJSONata, "MaxItems"),
    (ToleratedFailureCountStringJSONata, "ToleratedFailureCount"),
    (ToleratedFailurePercentageStringJSONata, "ToleratedFailurePercentage"),
)
_PREFIX = "An error occurred while executing the state '{state}' (entered at the event id #{entered}). "


def annotate(component: Any, location: str | None = None, seen: set[int] | None = None) -> None:
    """Write on every JSONata expression of a parsed definition the field it belongs to."""
    seen = set() if seen is None else seen
    if id(component) in seen:
        return
    seen.add(id(component))
    if isinstance(component, StringJSONata):
        if location:
            setattr(component, LOCATION, location)
        return
    if isinstance(component, Component):
        for kind, name in FIELDS:
            if isinstance(component, kind):
                location = name
                break
        if isinstance(component, JSONataTemplateBinding | AssignTemplateBinding) and location:
            location = f"{location}/{component.identifier}"
    children = vars(component).items() if hasattr(component, "__dict__") else ()
    for _, child in children:
        _annotate_child(child, location, seen, indexed=isinstance(component, _ARRAYS))
    if isinstance(component, list | tuple):
        for child in component:
            annotate(child, location, seen)


_ARRAYS = (JSONataTemplateValueArray, AssignTemplateValueArray)


def _annotate_child(child: Any, location: str | None, seen: set[int], indexed: bool) -> None:
    if isinstance(child, list | tuple):
        for index, item in enumerate(child):
            annotate(item, f"{location}/{index}" if indexed and location else location, seen)
    elif isinstance(child, dict):
        for item in child.values():
            annotate(item, location, seen)
    elif isinstance(child, Component):
        annotate(child, location, seen)


_original_parse = AmazonStateLanguageParser.__dict__["parse"].__func__


def _parse_with_locations(definition: str) -> Any:
    program, tree = _original_parse(definition)
    annotate(program)
    return program, tree


# -- the EvaluationFailed event -----------------------------------------------------------------------------------


def _decorated(details: dict[str, Any], entered: dict[str, Any] | None) -> dict[str, Any]:
    """The event's details as AWS writes them: error, cause with the state's prefix, location, state."""
    details = dict(details)
    if entered is not None and "state" not in details:
        state = entered["stateEnteredEventDetails"]["name"]
        details["state"] = state
        if details.get("cause"):
            details["cause"] = _PREFIX.format(state=state, entered=entered["id"]) + details["cause"]
    return {key: details[key] for key in ("error", "cause", "location", "state") if key in details}


def _published(manager: Any) -> tuple[list[Any], set[tuple[Any, Any]]]:
    """What this execution has reported: the detail objects (by identity) and the (state, cause) pairs."""
    objects = manager.__dict__.setdefault("_breakwater_evaluation_objects", [])
    keys = manager.__dict__.setdefault("_breakwater_evaluation_keys", set())
    return objects, keys


_original_publish_event = event_manager.EventManager._publish_history_event
_original_publish_log = event_manager.EventManager._publish_history_log


def _as_aws_writes_it(manager: Any, source_event_id: int, event_type: Any, event_details: Any) -> tuple[int, Any]:
    """An ``EvaluationFailed`` event's link and details as AWS writes them (any other event as it is)."""
    if event_type != HistoryEventType.EvaluationFailed or not event_details:
        return source_event_id, event_details
    entered = entered_event(manager._history_event_list, source_event_id)
    details = _decorated(event_details.get("evaluationFailedEventDetails") or {}, entered)
    # Unless the state had already begun (a Wait), the event follows the one before the state was entered.
    if entered is not None and entered["id"] == source_event_id and entered["type"] != "WaitStateEntered":
        source_event_id = entered["previousEventId"]
    return source_event_id, {"evaluationFailedEventDetails": details}


def _publish_event(
    self: Any, event_id: int, source_event_id: int, event_type: Any, timestamp: Any, event_details: Any
) -> None:
    """As moto writes an event into the history; an ``EvaluationFailed`` one as AWS writes it."""
    if event_type == HistoryEventType.EvaluationFailed and event_details:
        objects, keys = _published(self)
        objects.append(event_details)
        entered = entered_event(self._history_event_list, source_event_id)
        details = _decorated(event_details.get("evaluationFailedEventDetails") or {}, entered)
        keys.add((details.get("state"), details.get("cause")))
    source_event_id, event_details = _as_aws_writes_it(self, source_event_id, event_type, event_details)
    _original_publish_event(self, event_id, source_event_id, event_type, timestamp, event_details)


def _publish_log(
    self: Any, event_id: int, source_event_id: int, event_type: Any, timestamp: Any, event_details: Any
) -> None:
    """As moto logs an event; an ``EvaluationFailed`` one as the history has it."""
    source_event_id, event_details = _as_aws_writes_it(self, source_event_id, event_type, event_details)
    _original_publish_log(self, event_id, source_event_id, event_type, timestamp, event_details)


def _already_reported(env: Any, event_details: Any) -> bool:
    """Whether the task (or Map) that failed has reported this failure itself, as moto's own code does."""
    objects, keys = _published(env.event_manager)
    if any(reported is event_details for reported in objects):
        return True
    manager = env.event_manager
    entered = entered_event(manager._history_event_list, env.event_history_context.source_event_id)
    details = _decorated(event_details.get("evaluationFailedEventDetails") or {}, entered)
    return (details.get("state"), details.get("cause")) in keys


_original_state_body = CommonStateField._eval_body


def _state_body(self: Any, env: Any) -> None:
    """A state whose own fields (``Output``, ``Assign``, ...) fail to evaluate reports ``EvaluationFailed``."""
    try:
        _original_state_body(self, env)
    except FailureEventException as failure:
        event = failure.failure_event
        if (
            event.event_type == HistoryEventType.EvaluationFailed
            and event.event_details
            and not _already_reported(env, event.event_details)
        ):
            env.event_manager.add_event(
                context=env.event_history_context, event_type=event.event_type, event_details=event.event_details
            )
        raise


PATCH = Patch(
    "evaluation_failed",
    "a failing JSONata expression reports EvaluationFailed as AWS does: its field, its state, its place in history",
    [
        (AmazonStateLanguageParser, "parse", staticmethod(_parse_with_locations)),
        (event_manager.EventManager, "_publish_history_event", _publish_event),
        (event_manager.EventManager, "_publish_history_log", _publish_log),
        (CommonStateField, "_eval_body", _state_body),
    ],
)
