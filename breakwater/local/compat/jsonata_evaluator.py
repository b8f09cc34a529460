"""Patch ``jsonata_evaluator``: moto parses JSONata but ships no evaluator, and it writes every variable into the
expression text (strings unescaped; parsed again for every evaluation). Evaluate with ``local.jsonata`` (2.0.6
answers, Step Functions' functions, ``$parse`` as JSON parsing), variables as bindings, each expression parsed
once; errors and undefined results carry AWS's name ``States.QueryEvaluationError`` (moto would say
``States.Runtime``). See docs/local-jsonata.md.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode
from moto.stepfunctions.parser.asl.component.common.string import string_expression
from moto.stepfunctions.parser.asl.eval import variable_store as variable_store_module
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

from breakwater.local import jsonata, services
from breakwater.local.compat.base import Patch
from breakwater.local.compat.evaluation_failed import LOCATION

_STATES_VARIABLE = "states"
_STATES_MEMBERS = ("input", "context", "result", "errorOutput")


@functools.lru_cache(maxsize=4096)
def _variable_references(expression: str) -> tuple[str, ...]:
    """The ``$name`` and ``$states.member`` references of an expression (moto's pattern), found once per text.

    A bare ``$`` is JSONata's context (``$states.result[$ = 1]``), not a variable: AWS evaluates it (recorded,
    TestState ``test_map_state_failure_count[*-MAP_TASK_STATE]``); moto refused every expression holding one.
    """
    found = {ref for ref in moto_jsonata._PATTERN_VARIABLE_REFERENCE.findall(expression) if ref and ref != "$"}
    if "$$" in found:
        raise moto_jsonata.IllegalJSONataVariableReference(variable_reference="$$")
    return tuple(sorted(found))


def jsonata_bindings(env: Any, expression: str, with_states: bool = True) -> dict[str, Any]:
    """The variables an expression reads, as Step Functions binds them: ``$states`` and the workflow's variables."""
    bindings: dict[str, Any] = {}
    states: dict[str, Any] = {}
    states_data = env.states._states_data
    for reference in _variable_references(expression):
        head, _, rest = reference[1:].partition(".")
        if head == _STATES_VARIABLE:
            member = rest.partition(".")[0]
            if not with_states:
                continue
            if not member:  # the whole of $states: an error output only where there is one (Catch; recorded)
                states = {k: v for k, v in states_data.items() if not (k == "errorOutput" and v is None)}
            elif member in _STATES_MEMBERS and member in states_data:
                states[member] = states_data[member]
            continue
        with contextlib.suppress(variable_store_module.NoSuchVariable):
            bindings[head] = env.variable_store.get(head)
    if states:
        bindings[_STATES_VARIABLE] = states
    return bindings


def _query_evaluation_failure(env: Any, cause: str, location: str | None = None) -> FailureEventException:
    """The failure Step Functions reports for an expression: ``States.QueryEvaluationError`` (moto: States.Runtime)."""
    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EvaluationFailedEventDetails(error=error_name.error_name, cause=cause)
    if location:
        details["location"] = location
    event = FailureEvent(
        env=env,
        error_name=error_name,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=details),  # type: ignore[typeddict-item]
    )
    return FailureEventException(failure_event=event)


def evaluate_jsonata(env: Any, expression: str, with_states: bool = True, location: str | None = None) -> Any:
    """Evaluate one ``{% %}`` expression with its variables as bindings, as Step Functions does.

    ``location`` is the field the expression is written in (``Output/result``), when known: AWS names it in
    the cause of a failure (patch ``evaluation_failed`` finds it).
    """
    subject = f"The JSONata expression '{expression}'" + (f" specified for the field '{location}'" if location else "")
    try:
        result = services.current().jsonata.evaluate(expression, jsonata_bindings(env, expression, with_states))
    except jsonata.UnsupportedResult as exc:  # recorded: "... specified for the field 'Items' returned an ..."
        cause = f"{subject} returned an unsupported result type." if location else str(exc)
        raise _query_evaluation_failure(env, cause, location) from exc
    except jsonata.JSONataError as exc:
        if location:
            cause = f"{subject} threw an error during evaluation. {exc}"
        else:
            cause = f"An error occurred while evaluating the expression '{expression}': {exc}"
        raise _query_evaluation_failure(env, cause, location) from exc
    if result is jsonata.UNDEFINED:
        raise _query_evaluation_failure(env, f"{subject} returned nothing (undefined).", location)
    return result


def _string_jsonata_body(self: Any, env: Any) -> None:
    env.stack.append(evaluate_jsonata(env, self.expression, location=getattr(self, LOCATION, None)))


def _variable_sample_body(self: Any, env: Any) -> None:
    # A ``$var`` reference (JSONPath states too); in JSONata states ``$states`` is bound as well.
    with_states = self.query_language_mode == QueryLanguageMode.JSONata
    env.stack.append(evaluate_jsonata(env, self.expression, with_states))


def _jsonata_evaluator_targets() -> list[tuple[Any, str, Any]]:
    return [
        (string_expression.StringJSONata, "_eval_body", _string_jsonata_body),
        (string_expression.StringVariableSample, "_eval_body", _variable_sample_body),
    ]


PATCH = Patch(
    "jsonata_evaluator",
    "evaluate JSONata as Step Functions does (2.0.6, variables as bindings, each expression parsed once)",
    _jsonata_evaluator_targets(),
)
