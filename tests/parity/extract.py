"""Build ``tests/parity/recordings/*.json`` from a checkout of localstack/localstack.

LocalStack records Step Functions executions against real AWS and keeps them as snapshot files
(``tests/aws/services/stepfunctions/v2/**/*.snapshot.json``, each with its ``recorded-date``). This script
keeps only the facts a replay needs: for each recorded execution, the state machine definition AWS ran
(the test's template, as the test modified it), the execution input, and the history AWS answered. What
each recorded test did to its template is restated below, test by test (``BUILDERS``); the handler code of
the functions the recordings invoke is ours (``tests/parity/functions``), written to the behaviour the
recordings show.

Run: ``python tests/parity/extract.py /path/to/localstack COMMIT`` (needs ``pip install json5``; COMMIT is
the checkout's commit, written beside the recordings). Not part of the
test suite: the suite reads the JSON files this writes.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
OUT = HERE / "recordings"
SFN = Path("tests/aws/services/stepfunctions")
REPOSITORY = "https://github.com/localstack/localstack"

# A function's ARN as the recordings write it: the placeholder names the function (see ``Case.functions``).
ACCOUNT = "111111111111"


def function_arn(placeholder: str) -> str:
    return f"arn:<partition>:lambda:<region>:{ACCOUNT}:function:{placeholder}"


@dataclass
class Case:
    """What a recorded test ran: its definition and the resources its placeholders stand for."""

    definition: dict[str, Any]
    functions: dict[str, str] = field(default_factory=dict)
    """placeholder -> the kind of function (a folder of tests/parity/functions)."""
    tables: dict[str, bool] = field(default_factory=dict)
    """placeholder -> True: a table with hash key ``id`` (S) exists; False: no such table."""
    queues: dict[str, bool] = field(default_factory=dict)
    """placeholder -> True: an existing queue's URL; False: a URL of no queue."""
    input: Any = None
    """The execution input, where the recorded one lost a value to a placeholder (None: the recorded one)."""
    normalise: list[str] = field(default_factory=list)
    """What the test did to the history beyond the usual (see ``replay.NORMALISERS``)."""


Builder = Callable[[dict[str, Any], "Templates"], Case]


class Templates:
    """The template constants of LocalStack's template classes, read from their source with ``ast``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.classes: dict[str, dict[str, Any]] = {}
        for source in (root / SFN / "templates").rglob("*.py"):
            tree = ast.parse(source.read_text())
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    self.classes[node.name] = self._constants(node, source.parent)

    @staticmethod
    def _constants(node: ast.ClassDef, folder: Path) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for item in node.body:
            target, value = None, None
            if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                target, value = item.targets[0].id, item.value
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                target, value = item.target.id, item.value
            if target is None or value is None:
                continue
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "join":
                values[target] = folder / ast.literal_eval(value.args[1])
            else:
                try:
                    values[target] = ast.literal_eval(value)
                except ValueError:
                    continue
        return values

    def load(self, path: Path) -> dict[str, Any]:
        import json5  # type: ignore[import-not-found]

        with path.open() as handle:
            return dict(json5.load(handle))

    def constant(self, cls: str, name: str) -> Any:
        return self.classes[cls][name]

    def template(self, cls: str, name: str) -> dict[str, Any]:
        return self.load(self.constant(cls, name))

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))


# -- parametrize ids and values, read from a test file ---------------------------------------------------------


class Params:
    """The ``pytest.mark.parametrize`` cases of a test file's functions, values resolved."""

    def __init__(self, source: Path, templates: Templates) -> None:
        self.templates = templates
        self.tree = ast.parse(source.read_text())
        self.aliases: dict[str, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = alias.name

    def _value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            cls = self.aliases.get(node.value.id, node.value.id)
            value = self.templates.constant(cls, node.attr)
            return {"$template": value} if isinstance(value, Path) else value
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "load_sfn_template":
                return self._value(node.args[0])
            if node.func.attr == "param":
                values = [self._value(arg) for arg in node.args]
                return values[0] if len(values) == 1 else tuple(values)
        if isinstance(node, ast.Tuple):
            return tuple(self._value(element) for element in node.elts)
        if isinstance(node, ast.List):
            return [self._value(element) for element in node.elts]
        if isinstance(node, ast.Dict):
            return {
                self._value(k): self._value(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None
            }
        return ast.literal_eval(node)

    @staticmethod
    def _param_id(node: ast.expr) -> str | None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "param":
            for keyword in node.keywords:
                if keyword.arg == "id":
                    return str(ast.literal_eval(keyword.value))
        return None

    def of(self, function: str) -> dict[str, dict[str, Any]]:
        """``{id: {argument: value}}`` for one test function (``{"": {}}`` when it is not parametrized)."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef) and node.name == function:
                cases: dict[str, dict[str, Any]] = {"": {}}
                for decorator in node.decorator_list:
                    if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "parametrize":
                        cases = self._parametrize(decorator)
                return cases
        raise KeyError(function)

    def _parametrize(self, decorator: ast.Call) -> dict[str, dict[str, Any]]:
        names = [name.strip() for name in ast.literal_eval(decorator.args[0]).split(",")]
        elements = decorator.args[1].elts  # type: ignore[attr-defined]
        ids: list[str] | None = None
        for keyword in decorator.keywords:
            if keyword.arg == "ids":
                ids = [str(ast.literal_eval(element)) for element in keyword.value.elts]  # type: ignore[attr-defined]
        found: list[tuple[str, dict[str, Any]]] = []
        for index, element in enumerate(elements):
            value = self._value(element)
            values = dict(zip(names, value, strict=True)) if len(names) > 1 else {names[0]: value}
            case_id = self._param_id(element) or (ids[index] if ids else _pytest_id(names[0], value, index))
            found.append((case_id, values))
        # pytest tells apart equal ids by a suffix: 0_0, 0_1
        counts = {case_id: [c for c, _ in found].count(case_id) for case_id, _ in found}
        seen: dict[str, int] = {}
        cases = {}
        for case_id, values in found:
            if counts[case_id] > 1:
                seen[case_id] = seen.get(case_id, -1) + 1
                cases[f"{case_id}_{seen[case_id]}"] = values
            else:
                cases[case_id] = values
        return cases


def _pytest_id(name: str, value: Any, index: int) -> str:
    """The id pytest gives a parameter value without ``ids``: the value for a scalar, else name + index."""
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    return f"{name}{index}"


# -- the builders: what each recorded test did to its template ---------------------------------------------------


def plain(cls: str, constant: str | None = None, argument: str = "template_path") -> Builder:
    """The template as it is: named, or the test's parametrized one."""

    def build(params: dict[str, Any], t: Templates) -> Case:
        if constant is not None:
            return Case(t.template(cls, constant))
        return Case(t.load(params[argument]["$template"]))

    return build


def with_function(
    cls: str,
    constant: str | None,
    kind: str,
    placeholder: str,
    resource_at: tuple[str, ...] | None = None,
    argument: str = "template_path",
    text: str | None = None,
    edit: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> Builder:
    """A template whose test created one function: its ARN set at ``resource_at`` or written over ``text``."""

    def build(params: dict[str, Any], t: Templates) -> Case:
        template = t.template(cls, constant) if constant else t.load(params[argument]["$template"])
        if resource_at:
            node = template
            for key in resource_at[:-1]:
                node = node[key]
            node[resource_at[-1]] = function_arn(placeholder)
        if edit:
            edit(template, params)
        if text:
            template = json.loads(json.dumps(template).replace(text, function_arn(placeholder)))
        return Case(template, functions={placeholder: kind})

    return build


def edited(cls: str, constant: str, edit: Callable[[dict[str, Any], dict[str, Any]], None]) -> Builder:
    def build(params: dict[str, Any], t: Templates) -> Case:
        template = t.template(cls, constant)
        edit(template, params)
        return Case(template)

    return build


def replaced(cls: str, constant: str, old: str, new: Callable[[dict[str, Any]], str]) -> Builder:
    """The template's JSON text with ``old`` replaced, as tests do with their ``_tbd_`` markers."""

    def build(params: dict[str, Any], t: Templates) -> Case:
        text = json.dumps(t.template(cls, constant)).replace(old, new(params))
        return Case(json.loads(text))

    return build


def services(kind: str, *names: str, **resources: Any) -> Callable[[Builder], Builder]:
    """Add resources (functions, tables, queues) a test created beside its template."""

    def wrap(builder: Builder) -> Builder:
        def build(params: dict[str, Any], t: Templates) -> Case:
            case = builder(params, t)
            if names:
                getattr(case, kind).extend(names)
            else:
                getattr(case, kind).update(resources)
            return case

        return build

    return wrap


def functions(**kinds: str) -> Callable[[Builder], Builder]:
    return services("functions", **kinds)


def normalise(*names: str) -> Callable[[Builder], Builder]:
    return services("normalise", *names)


def input_of(make: Callable[[dict[str, Any]], Any]) -> Callable[[Builder], Builder]:
    """The input the test passed, rebuilt from its parameters."""

    def wrap(builder: Builder) -> Builder:
        def build(params: dict[str, Any], t: Templates) -> Case:
            case = builder(params, t)
            case.input = make(params)
            return case

        return build

    return wrap


def setitem(path: tuple[str, ...], value: Any = None, argument: str | None = None) -> Callable[..., None]:
    def edit(template: dict[str, Any], params: dict[str, Any]) -> None:
        node = template
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = copy.deepcopy(params[argument] if argument else value)

    return edit


def update_state(state: str, argument: str) -> Callable[..., None]:
    def edit(template: dict[str, Any], params: dict[str, Any]) -> None:
        template["States"][state].update(params[argument])

    return edit


def both(*edits: Callable[..., None]) -> Callable[..., None]:
    def edit(template: dict[str, Any], params: dict[str, Any]) -> None:
        for each in edits:
            each(template, params)

    return edit


def append_catch(state: str, error: str) -> Callable[..., None]:
    def edit(template: dict[str, Any], params: dict[str, Any]) -> None:
        template["States"][state]["Catch"][0]["ErrorEquals"].append(error)

    return edit


LAMBDA_PH = "%LAMBDA_FUNCTION_ARN_LITERAL_PLACEHOLDER%"

OT, AT, ARG, EJT = "OutputTemplates", "AssignTemplate", "ArgumentTemplates", "EvaluateJsonataTemplate"
SVT, EHT, ST, TT = "StateVariablesTemplate", "ErrorHandlingTemplate", "ServicesTemplates", "TimeoutTemplates"
COT, QLT, IFT, SCT = "ContextObjectTemplates", "QueryLanguageTemplate", "IntrinsicFunctionTemplate", "ScenariosTemplate"

#: group name -> (test file under v2/, {test function: builder})
BUILDERS: dict[str, tuple[str, dict[str, Builder]]] = {
    "output": (
        "outputdecl/test_output.py",
        {
            "test_base_cases": plain(OT),
            "test_base_lambda": with_function(
                OT, None, "identity", "lambda_function_name", ("States", "State0", "Resource")
            ),
            "test_base_task_lambda": with_function(OT, "BASE_TASK_LAMBDA", "identity", "lambda_function_name"),
            "test_base_output_any_non_dict": edited(
                OT, "BASE_OUTPUT_ANY", setitem(("States", "State0", "Output"), argument="output_value")
            ),
            "test_output_in_choice": plain(OT, "CHOICE_CONDITION_JSONATA"),
        },
    ),
    "assign": (
        "assign/test_assign_base.py",
        {
            "test_base_cases": plain(AT),
            "test_base_parallel_cases": normalise("parallel")(plain(AT)),
            "test_assign_in_choice": plain(AT, "CHOICE_CONDITION_JSONATA"),
        },
    ),
    "assign_references": (
        "assign/test_assign_reference_variables.py",
        {
            "test_reference_assign": plain(AT),
            "test_undefined_reference": plain(AT, argument="template"),
            "test_assign_from_value": plain(AT),
            "test_state_assign_evaluation_order": plain(AT),
            "test_assign_in_choice_state": plain(AT, "BASE_ASSIGN_IN_CHOICE"),
            "test_assign_in_wait_state": plain(AT, "BASE_ASSIGN_IN_WAIT"),
            "test_assign_in_catch_state": with_function(
                AT, "BASE_ASSIGN_IN_CATCH", "raise_exception", "<lambda-function-name>"
            ),
            "test_variables_in_lambda_task": with_function(AT, None, "return_bytes", "<lambda-function-name>"),
            "test_reference_in_map_state": normalise("outputs")(plain(AT, argument="template")),
        },
    ),
    "arguments": (
        "arguments/test_arguments.py",
        {
            "test_base_cases": with_function(
                ARG, None, "identity", "lambda_function_name", ("States", "State0", "Resource")
            )
        },
    ),
    "evaluate_jsonata": (
        "evaluate_jsonata/test_base_evaluate_expressions.py",
        {
            "test_base_task": with_function(
                EJT,
                "BASE_TASK",
                "identity",
                "<lambda-function-name>",
                text=LAMBDA_PH,
                edit=update_state("Start", "expression_dict"),
            ),
            "test_base_map": edited(EJT, "BASE_MAP", update_state("Start", "expression_dict")),
            "test_base_jsonata_regular_expressions": edited(
                EJT, "BASE_PASS", setitem(("States", "Start", "Output"), argument="expression_string")
            ),
            "test_merge_with_dynamic_args": edited(
                EJT,
                "BASE_PASS",
                setitem(("States", "Start", "Output"), "{% $merge([$states.input.part1, $states.input.part2]) %}"),
            ),
            "test_base_task_from_input": with_function(
                EJT,
                "BASE_TASK",
                "identity",
                "<lambda-function-name>",
                text=LAMBDA_PH,
                edit=lambda template, params: template["States"]["Start"].__setitem__(
                    params["field"], "{% $states.input.input_value %}"
                ),
            ),
            "test_base_map_from_input": edited(
                EJT,
                "BASE_MAP",
                lambda template, params: template["States"]["Start"].__setitem__(
                    params["field"], "{% $states.input.input_value %}"
                ),
            ),
        },
    ),
    "error_output": (
        "states_variables/test_error_output.py",
        {
            **{
                name: with_function(
                    SVT, None, "raise_exception", "<lambda-function-name>", argument="template", text=LAMBDA_PH
                )
                for name in (
                    "test_task_catch_error_output",
                    "test_catch_error_variable_sampling",
                    "test_task_catch_error_with_retry",
                    "test_map_catch_error",
                )
            },
            "test_parallel_catch_error": normalise("parallel")(
                with_function(
                    SVT, None, "raise_exception", "<lambda-function-name>", argument="template", text=LAMBDA_PH
                )
            ),
        },
    ),
    "dynamodb_errors": (
        "error_handling/test_task_service_dynamodb.py",
        {
            name: services("tables", **{"<test-table>": False})(plain(EHT, "AWS_SERVICE_DYNAMODB_PUT_ITEM"))
            for name in ("test_invalid_param", "test_put_item_no_such_table", "test_put_item_invalid_table_name")
        },
    ),
    "sqs_errors": (
        "error_handling/test_task_service_sqs.py",
        {
            "test_send_message_no_such_queue": services("queues", **{"<no_such_sqs_queue_url>": False})(
                plain(EHT, "AWS_SERVICE_SQS_SEND_MSG_CATCH")
            ),
            "test_send_message_no_such_queue_no_catch": services("queues", **{"<no_such_sqs_queue_url>": False})(
                plain(ST, "SQS_SEND_MESSAGE")
            ),
            "test_send_message_empty_body": services("queues", **{"<sqs_queue_url>": True})(
                plain(EHT, "AWS_SERVICE_SQS_SEND_MSG_CATCH")
            ),
        },
    ),
    "lambda_service_errors": (
        "error_handling/test_task_service_lambda.py",
        {
            "test_raise_exception": with_function(
                EHT, "AWS_SERVICE_LAMBDA_INVOKE_CATCH_UNKNOWN", "raise_exception", "<lambda_function_name>"
            ),
            "test_raise_custom_exception": with_function(
                EHT,
                "AWS_SERVICE_LAMBDA_INVOKE_CATCH_TBD",
                "raise_custom_exception",
                "<lambda_function_name>",
                edit=append_catch("InvokeLambda", "CustomException"),
            ),
            "test_raise_exception_catch": with_function(
                EHT, "AWS_SERVICE_LAMBDA_INVOKE_CATCH_RELEVANT", "raise_exception", "<lambda_function_name>"
            ),
            "test_raise_exception_catch_output_path": with_function(
                EHT,
                "AWS_SERVICE_LAMBDA_INVOKE_CATCH_ALL_OUTPUT_PATH",
                "raise_exception",
                "lambda_function_name",
                edit=setitem(("States", "InvokeLambda", "OutputPath"), argument="output_path_value"),
            ),
            "test_no_such_function": with_function(
                EHT, "AWS_SERVICE_LAMBDA_INVOKE_CATCH_UNKNOWN", "raise_exception", "<lambda_function_name>"
            ),
            "test_no_such_function_catch": with_function(
                EHT, "AWS_SERVICE_LAMBDA_INVOKE_CATCH_RELEVANT", "raise_exception", "<lambda_function_name>"
            ),
            "test_invoke_timeout": with_function(
                EHT, "AWS_SERVICE_LAMBDA_INVOKE_CATCH_TIMEOUT", "wait_60_seconds", "<lambda_function_1_name>"
            ),
        },
    ),
    "lambda_task_errors": (
        "error_handling/test_task_lambda.py",
        {
            "test_raise_exception": with_function(
                EHT,
                "AWS_LAMBDA_INVOKE_CATCH_UNKNOWN",
                "raise_exception",
                "<lambda_function_name>",
                ("States", "Start", "Resource"),
            ),
            "test_raise_custom_exception": with_function(
                EHT,
                "AWS_LAMBDA_INVOKE_CATCH_TBD",
                "raise_custom_exception",
                "<lambda_function_name>",
                ("States", "InvokeLambda", "Resource"),
                edit=append_catch("InvokeLambda", "CustomException"),
            ),
            "test_raise_exception_catch": with_function(
                EHT,
                "AWS_LAMBDA_INVOKE_CATCH_RELEVANT",
                "raise_exception",
                "<lambda_function_name>",
                ("States", "Start", "Resource"),
            ),
            "test_no_such_function": with_function(
                EHT,
                "AWS_LAMBDA_INVOKE_CATCH_UNKNOWN",
                "raise_exception",
                "<lambda_function_name>",
                ("States", "Start", "Resource"),
            ),
            "test_no_such_function_catch": with_function(
                EHT,
                "AWS_LAMBDA_INVOKE_CATCH_RELEVANT",
                "raise_exception",
                "<lambda_function_name>",
                ("States", "Start", "Resource"),
            ),
        },
    ),
    "states_errors": (
        "error_handling/test_states_errors.py",
        {
            "test_service_task_lambada_data_limit_exceeded_on_large_utf8_response": with_function(
                EHT, "AWS_SERVICE_LAMBDA_INVOKE_CATCH_DATA_LIMIT_EXCEEDED", "large_output", "<lambda_function_name>"
            ),
            "test_service_task_lambada_catch_state_all_data_limit_exceeded_on_large_utf8_response": with_function(
                EHT, "AWS_SERVICE_LAMBDA_INVOKE_CATCH_ALL", "large_output", "<lambda_function_name>"
            ),
            "test_task_lambda_data_limit_exceeded_on_large_utf8_response": with_function(
                EHT,
                "AWS_SERVICE_LAMBDA_INVOKE_CATCH_DATA_LIMIT_EXCEEDED",
                "large_output",
                "<lambda_function_name>",
                ("States", "InvokeLambda", "Resource"),
            ),
            "test_task_lambda_catch_state_all_data_limit_exceeded_on_large_utf8_response": with_function(
                EHT,
                "AWS_SERVICE_LAMBDA_INVOKE_CATCH_ALL",
                "large_output",
                "<lambda_function_name>",
                ("States", "InvokeLambda", "Resource"),
            ),
        },
    ),
    "dynamodb": (
        "services/test_dynamodb_task_service.py",
        {"test_base_integrations": services("tables", **{"table-name": True})(plain(ST))},
    ),
    "sqs": (
        "services/test_sqs_task_service.py",
        {
            "test_send_message": services("queues", **{"<sqs_queue_url>": True})(plain(ST, "SQS_SEND_MESSAGE")),
            "test_send_message_unsupported_parameters": services("queues", **{"<sqs_queue_url>": True})(
                plain(ST, "SQS_SEND_MESSAGE")
            ),
            "test_send_message_attributes": services("queues", **{"<sqs_queue_url>": True})(
                plain(ST, "SQS_SEND_MESSAGE_ATTRIBUTES")
            ),
        },
    ),
    "lambda": (
        "services/test_lambda_task_service.py",
        {
            "test_invoke": with_function(ST, "LAMBDA_INVOKE", "identity", "<lambda_function_name>"),
            "test_invoke_bytes_payload": with_function(ST, "LAMBDA_INVOKE", "return_bytes", "<lambda_function_name>"),
            "test_invoke_unsupported_param": with_function(
                ST, "LAMBDA_INVOKE_LOG_TYPE", "identity", "<lambda_function_name>"
            ),
            "test_invoke_json_values": with_function(ST, "LAMBDA_INVOKE", "identity", "<lambda_function_name>"),
        },
    ),
    "timeouts": (
        "timeouts/test_timeouts.py",
        {
            "test_fixed_timeout_service_lambda": with_function(
                TT, "SERVICE_LAMBDA_WAIT_WITH_TIMEOUT_SECONDS", "wait_60_seconds", "<lambda_function_1_name>"
            ),
            "test_fixed_timeout_service_lambda_with_path": with_function(
                TT,
                "SERVICE_LAMBDA_MAP_FUNCTION_INVOKE_WITH_TIMEOUT_SECONDS_PATH",
                "wait_60_seconds",
                "<lambda_function_1_name>",
            ),
            "test_fixed_timeout_lambda": with_function(
                TT,
                "LAMBDA_WAIT_WITH_TIMEOUT_SECONDS",
                "wait_60_seconds",
                "<lambda_function_1_name>",
                ("States", "Start", "Resource"),
            ),
            "test_service_lambda_map_timeout": with_function(
                TT,
                "SERVICE_LAMBDA_MAP_FUNCTION_INVOKE_WITH_TIMEOUT_SECONDS",
                "wait_60_seconds",
                "<lambda_function_1_name>",
            ),
        },
    ),
    "context_object": (
        "context_object/test_context_object.py",
        {
            "test_input_path": replaced(
                COT,
                "CONTEXT_OBJECT_INPUT_PATH",
                "%CONTEXT_OBJECT_LITERAL_PLACEHOLDER%",
                lambda p: p["context_object_literal"],
            ),
            "test_output_path": replaced(
                COT,
                "CONTEXT_OBJECT_OUTPUT_PATH",
                "%CONTEXT_OBJECT_LITERAL_PLACEHOLDER%",
                lambda p: p["context_object_literal"],
            ),
            "test_result_selector": functions(**{"<lambda_function_name>": "identity"})(
                replaced(
                    COT,
                    "CONTEXT_OBJECT_RESULT_PATH",
                    "%CONTEXT_OBJECT_LITERAL_PLACEHOLDER%",
                    lambda p: "$$.Execution.Input",
                )
            ),
            "test_variable": replaced(
                COT,
                "CONTEXT_OBJECT_VARIABLE",
                "%CONTEXT_OBJECT_LITERAL_PLACEHOLDER%",
                lambda p: "$$.Execution.Input.input-value",
            ),
            "test_error_cause_path": plain(COT, "CONTEXT_OBJECT_ERROR_CAUSE_PATH"),
        },
    ),
    "query_language": (
        "query_language/test_base_query_language.py",
        {
            "test_base_query_language_field": plain(QLT, argument="template"),
            "test_query_language_field_override": plain(QLT, argument="template"),
        },
    ),
    "jsonata_functions": (
        "intrinsic_functions/test_array_jsonata.py",
        {
            "test_array_partition": plain(IFT, "ARRAY_PARTITION_JSONATA"),
            "test_array_range": plain(IFT, "ARRAY_RANGE_JSONATA"),
        },
    ),
    "jsonata_random": (
        "intrinsic_functions/test_math_operations_jsonata.py",
        {"test_math_random_seeded": plain(IFT, "MATH_RANDOM_SEEDED_JSONATA")},
    ),
    "jsonata_parse": (
        "intrinsic_functions/test_json_manipulation_jsonata.py",
        {"test_parse": plain(IFT, "PARSE_JSONATA")},
    ),
    "scenarios": (
        "scenarios/test_base_scenarios.py",
        {
            "test_catch_states_runtime": with_function(
                SCT,
                "CATCH_STATES_RUNTIME",
                "identity",
                "<lambda_function_name>",
                ("States", "RaiseRuntime", "Resource"),
            ),
            "test_catch_empty": with_function(
                SCT, "CATCH_EMPTY", "identity", "<lambda_function_name>", ("States", "StartTask", "Resource")
            ),
            "test_parallel_state_fail": plain(SCT, "PARALLEL_STATE_FAIL"),
            "test_parallel_state_catch": plain(SCT, "PARALLEL_STATE_CATCH"),
            "test_parallel_state_retry": plain(SCT, "PARALLEL_STATE_RETRY"),
            "test_map_state_catch": plain(SCT, "MAP_STATE_CATCH"),
            "test_map_state_catch_empty_fail": plain(SCT, "MAP_STATE_CATCH_EMPTY_FAIL"),
            "test_map_state_retry": plain(SCT, "MAP_STATE_RETRY"),
            "test_map_state_retry_multiple_retriers": plain(SCT, "MAP_STATE_RETRY_MULTIPLE_RETRIERS"),
            "test_map_state_items_eval_jsonata_fail": replaced(
                SCT, "MAP_STATE_ITEMS_LITERAL", "_tbd_", lambda p: f"{{% {p['items_literal']} %}}"
            ),
            "test_map_state_items_eval_jsonata": replaced(
                SCT, "MAP_STATE_ITEMS_LITERAL", "_tbd_", lambda p: f"{{% {p['items_literal']} %}}"
            ),
            "test_map_state_items_eval_jsonata_variable_sampling_fail": replaced(
                SCT, "MAP_STATE_ITEMS_VARIABLE", "_tbd_", lambda p: f"{{% {p['items_literal']} %}}"
            ),
            "test_map_state_items_input_types": plain(SCT, "MAP_STATE_ITEMS"),
            "test_map_state_items_input_array": plain(SCT, "MAP_STATE_ITEMS"),
            "test_map_state_items_variable_sampling": replaced(
                SCT, "MAP_STATE_ITEMS_VARIABLE", '"_tbd_"', lambda p: p["items_literal"]
            ),
            "test_choice_unsorted_parameters_positive": plain(SCT),
            "test_choice_unsorted_parameters_negative": plain(SCT),
            "test_choice_condition_constant_jsonata": plain(SCT, "CHOICE_CONDITION_CONSTANT_JSONATA"),
            "test_choice_aws_docs_scenario": plain(SCT),
            "test_choice_singleton_composite": plain(SCT),
            "test_lambda_empty_retry": with_function(
                SCT,
                "LAMBDA_EMPTY_RETRY",
                "raise_exception",
                "<lambda_function_name>",
                ("States", "LambdaTask", "Resource"),
            ),
            "test_lambda_invoke_with_retry_base": with_function(
                SCT,
                "LAMBDA_INVOKE_WITH_RETRY_BASE",
                "raise_exception",
                "<lambda_function_1_name>",
                ("States", "InvokeLambdaWithRetry", "Resource"),
            ),
            "test_lambda_invoke_with_retry_extended_input": with_function(
                SCT,
                "LAMBDA_INVOKE_WITH_RETRY_BASE_EXTENDED_INPUT",
                "raise_exception",
                "<lambda_function_1_name>",
                ("States", "InvokeLambdaWithRetry", "Resource"),
            ),
            "test_lambda_service_invoke_with_retry_extended_input": with_function(
                SCT,
                "LAMBDA_SERVICE_INVOKE_WITH_RETRY_BASE_EXTENDED_INPUT",
                "raise_exception",
                "<lambda_function_1_name>",
            ),
            "test_retry_interval_features": with_function(
                SCT,
                "RETRY_INTERVAL_FEATURES",
                "raise_exception",
                "<lambda_function_name>",
                ("States", "LambdaTask", "Resource"),
            ),
            "test_retry_interval_features_jitter_none": with_function(
                SCT,
                "RETRY_INTERVAL_FEATURES_JITTER_NONE",
                "raise_exception",
                "<lambda_function_name>",
                ("States", "LambdaTask", "Resource"),
            ),
            "test_retry_interval_features_max_attempts_zero": with_function(
                SCT, "RETRY_INTERVAL_FEATURES_MAX_ATTEMPTS_ZERO", "raise_exception", "lambda_function_name"
            ),
            "test_wait_timestamp": edited(
                SCT, "WAIT_TIMESTAMP", setitem(("States", "WaitUntil", "Timestamp"), argument="timestamp_value")
            ),
            "test_wait_timestamp_path": input_of(lambda p: {"TimestampValue": p["timestamp_value"]})(
                plain(SCT, "WAIT_TIMESTAMP_PATH")
            ),
            "test_wait_timestamp_jsonata": input_of(lambda p: {"TimestampValue": p["timestamp_value"]})(
                plain(SCT, "WAIT_TIMESTAMP_JSONATA")
            ),
            "test_wait_seconds_jsonata": plain(SCT, "WAIT_SECONDS_JSONATA"),
            "test_fail_error_jsonata": plain(SCT, "RAISE_FAILURE_ERROR_JSONATA"),
            "test_fail_cause_jsonata": plain(SCT, "RAISE_FAILURE_CAUSE_JSONATA"),
            "test_invalid_jsonpath": plain(SCT, argument="template"),
            "test_escape_sequence_parsing": plain(SCT),
        },
    ),
}


# -- snapshots ---------------------------------------------------------------------------------------------


def recorded_date(text: str) -> str:
    """``19-02-2026, 14:47:34`` (LocalStack's day-first form) as ISO 8601."""
    return dt.datetime.strptime(text, "%d-%m-%Y, %H:%M:%S").isoformat()


def histories(content: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The recorded execution histories of one test: ``{snapshot key: events}``."""
    found = {}
    for key, value in content.items():
        if isinstance(value, dict) and isinstance(value.get("events"), list):
            found[key] = [{k: v for k, v in event.items() if k != "timestamp"} for event in value["events"]]
    return found


def started_input(events: list[dict[str, Any]]) -> Any:
    details = events[0]["executionStartedEventDetails"]
    return details.get("input")


def extract(root: Path, revision: str) -> None:
    templates = Templates(root)
    OUT.mkdir(exist_ok=True)
    for group, (test_file, builders) in BUILDERS.items():
        source = root / SFN / "v2" / test_file
        snapshot_path = source.with_suffix(".snapshot.json")
        snapshot = json.loads(snapshot_path.read_text())
        params = Params(source, templates)
        recordings = []
        for key, entry in snapshot.items():
            if not key.startswith(f"{source.relative_to(root)}::"):  # kept from the file's former location
                continue
            test = key.split("::")[-1]
            function, _, param_id = test.partition("[")
            param_id = param_id.rstrip("]")
            if function not in builders:
                continue
            cases = params.of(function)
            if param_id not in cases:  # an older recording of a parameter the test no longer has
                print(f"{group}: {test}: skipped, no such parameter now", file=sys.stderr)
                continue
            case = builders[function](cases[param_id], templates)
            for snapshot_key, events in histories(entry["recorded-content"]).items():
                name = test if snapshot_key == "get_execution_history" else f"{test}/{snapshot_key}"
                recording: dict[str, Any] = {
                    "name": name,
                    "recorded": recorded_date(entry["recorded-date"]),
                    "definition": case.definition,
                    "input": started_input(events) if case.input is None else case.input,
                }
                if case.normalise:
                    recording["normalise"] = case.normalise
                resources = {
                    **{k: {"function": v} for k, v in case.functions.items()},
                    **{k: {"table": v} for k, v in case.tables.items()},
                    **{k: {"queue": v} for k, v in case.queues.items()},
                }
                if resources:
                    recording["resources"] = resources
                recording["history"] = events
                recordings.append(recording)
        document = {
            "source": {
                "repository": REPOSITORY,
                "commit": revision,
                "snapshot": str(snapshot_path.relative_to(root)),
                "test": str(source.relative_to(root)),
                "note": "Recorded by LocalStack's test suite against AWS; 'recorded' is each snapshot's recorded-date.",
            },
            "recordings": recordings,
        }
        target = OUT / f"{group}.json"
        target.write_text(json.dumps(document, indent=1) + "\n")
        print(f"{group}: {len(recordings)} recordings -> {target.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    extract(Path(sys.argv[1]), sys.argv[2])
