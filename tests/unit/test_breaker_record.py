"""The breaker record (breakwater/breaker_record.py): one module for every reader, and nothing drifts from it.

The functions carry the module as a symbolic link that the build copies; the ASL writes the record;
Python everywhere names its states. These tests hold all of them to the one definition.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from breakwater import breaker_record as record
from breakwater.breaker import Breaker
from breakwater.executions import transition_tasks
from breakwater.local.build import build_function
from breakwater.template import ASL_PATH, PROJECT_ROOT
from tests.template.test_definition import strings_with_keys

CANONICAL = PROJECT_ROOT / "breakwater" / "breaker_record.py"
FUNCTIONS = PROJECT_ROOT / "functions"
STATES = {state.value for state in record.BreakerState}
# An upper-case string literal that mentions OPEN or CLOSE, or is DISABLED or UNKNOWN, names a state.
STATE_LIKE = re.compile(r"^[A-Z][A-Z_]*$")
# Python that may spell a state as a string: other breakers' records, and an EventBridge rule's State.
FOREIGN = {
    "breakwater/bench/aws_sample/functions": "the AWS sample's own CircuitStatus values, in its own Lambda code",
    "breakwater/bench/powertools.py": "Powertools' own circuit state (its CircuitState enum), read from its item",
    "breakwater/bench/functions/powertools": "Powertools' own circuit state, in the Lambda that uses it",
    "breakwater/local/event_source.py": "an EventBridge rule's State (ENABLED or DISABLED), not a breaker's",
}


def test_the_failure_rate_is_failures_per_counted_call():
    item = {"state": {"S": "CLOSED"}, "failureCount": {"N": "3"}, "callCount": {"N": "12"}, "mode": {"S": "SHADOW"}}

    breaker = Breaker.from_item(item, "payment-api")

    assert (breaker.failure_count, breaker.call_count, breaker.mode) == (3, 12, "SHADOW")
    assert breaker.failure_rate == "25%"


def test_a_breaker_without_counted_calls_has_no_rate():
    assert Breaker.from_item(None, "payment-api").failure_rate == "-"


def test_an_item_decodes_with_its_key_and_a_missing_state_is_closed():
    item = {"serviceName": {"S": "checkout"}, "openUntilMs": {"N": "1700000000000"}, "version": {"N": "7"}}

    breaker = Breaker.from_item(item)

    assert (breaker.service, breaker.state, breaker.open_until_ms, breaker.version) == (
        "checkout",
        "CLOSED",
        1700000000000,
        7,
    )
    assert record.CIRCUIT_STATE[breaker.state] == 0
    assert record.state_of(None) == record.state_of({}) == "CLOSED"
    assert record.CIRCUIT_STATE[Breaker.from_item({**item, "state": {"S": "FORCED_OPEN"}}).state] == 2


def test_every_state_has_a_docstring_a_metric_value_and_colours():
    source = ast.parse(CANONICAL.read_text())
    enum = next(n for n in source.body if isinstance(n, ast.ClassDef) and n.name == "BreakerState")
    documented = {
        target.id
        for assign, doc in zip(enum.body, enum.body[1:], strict=False)
        if isinstance(assign, ast.Assign)
        for target in assign.targets
        if isinstance(target, ast.Name) and isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
    }
    assert documented == {state.name for state in record.BreakerState}
    assert all(state.name == state.value for state in record.BreakerState)  # the item holds the name itself
    assert set(record.CIRCUIT_STATE) == STATES
    assert set(record.STATE_OF_CIRCUIT_VALUE.values()) <= STATES
    assert all(record.CIRCUIT_STATE[state] == value for value, state in record.STATE_OF_CIRCUIT_VALUE.items())
    assert set(record.STYLE) == set(record.COLOUR) == STATES | {record.UNREADABLE}
    assert record.UNREADABLE not in STATES


def test_the_functions_carry_the_module_as_a_link_to_it():
    imports = re.compile(r"^from breaker_record import", re.M)
    readers = sorted(path.parent.name for path in FUNCTIONS.glob("*/app.py") if imports.search(path.read_text()))
    assert readers == ["replay", "transitions"]
    for name in readers:
        carried = FUNCTIONS / name / "breaker_record.py"
        assert carried.is_symlink(), f"{carried} must be a link to {CANONICAL}, not a copy that can drift"
        assert carried.resolve() == CANONICAL.resolve()
    copies = [p for p in FUNCTIONS.rglob("breaker_record.py") if p.parent.name not in readers]
    assert copies == []


def test_the_build_puts_the_module_itself_in_each_reader(tmp_path: Path):
    for function, folder in (("ReplayFunction", "replay"), ("TransitionsFunction", "transitions")):
        artifact = build_function(function, FUNCTIONS / folder, tmp_path)
        built = artifact.code_dir / "breaker_record.py"
        assert built.is_file() and not built.is_symlink(), built
        assert built.read_bytes() == CANONICAL.read_bytes()


DYNAMODB_WORDS = {
    "SET",
    "ADD",
    "REMOVE",
    "DELETE",
    "AND",
    "OR",
    "NOT",
    "if_not_exists",
    "attribute_not_exists",
    "attribute_exists",
}


def _expression_attributes(expression: str) -> set[str]:
    """The attribute names an UpdateExpression or ConditionExpression (or a JSONata string literal of one) uses."""
    words = set(re.findall(r"(?<![:#\w])([A-Za-z_][A-Za-z0-9_]*)", expression))
    return words - DYNAMODB_WORDS


def test_every_attribute_the_workflow_reads_or_writes_is_defined():
    definition = json.loads(ASL_PATH.read_text())
    used: set[str] = set()
    for state in definition["States"].values():
        arguments = state.get("Arguments", {})
        if not str(state.get("Resource", "")).startswith("arn:${Partition}:states:::dynamodb:"):
            continue
        used |= set(arguments.get("Key", {}))
        used |= set(arguments.get("ExpressionAttributeNames", {}).values())
        for field in ("UpdateExpression", "ConditionExpression"):
            expression = arguments.get(field)
            if expression is None:
                continue
            if expression.startswith("{%"):  # JSONata choosing between expressions: the quoted ones
                for literal in re.findall(r"'([^']*)'", expression):
                    used |= _expression_attributes(literal)
            else:
                used |= _expression_attributes(expression)
    text = ASL_PATH.read_text()
    used |= set(re.findall(r"\$states\.result\.(?:Item|Attributes)\.([A-Za-z]+)", text))
    used.discard("state")  # written as #state
    assert {"failureCount", "openUntilMs", "probesInFlight", "version"} <= used  # the scan sees the writes
    assert sorted(used - set(record.ATTRIBUTES)) == []
    assert sorted(set(record.ATTRIBUTES) - used - {"state", "mode"}) == []  # and nothing is defined in vain


def test_every_state_the_workflow_names_is_defined():
    definition = json.loads(ASL_PATH.read_text())
    named: set[str] = set()
    for _, text in strings_with_keys(definition):  # the keys too: none is quoted
        named |= {s for s in re.findall(r"'([A-Z][A-Z_]+)'", text) if s not in {"S", "N"}}
    for state in definition["States"].values():
        values = state.get("Arguments", {}).get("ExpressionAttributeValues", {})
        if isinstance(values, dict):
            named |= {v["S"] for v in values.values() if isinstance(v, dict) and "S" in v}
        breaker = state.get("Assign", {}).get("breaker")
        if breaker and not str(breaker).startswith("{%"):
            named.add(breaker)
    for catcher in (c for s in definition["States"].values() for c in s.get("Catch", [])):
        if "breaker" in catcher.get("Assign", {}):
            named.add(catcher["Assign"]["breaker"])
    modes = {mode.value for mode in record.BreakerMode}
    assert {"CLOSED", "OPEN", "HALF_OPEN", "FORCED_OPEN", record.UNREADABLE} <= named
    assert sorted(named - STATES - modes - {record.UNREADABLE}) == []


def test_each_transition_task_writes_the_move_python_reads_from_it():
    states = json.loads(ASL_PATH.read_text())["States"]
    tasks = transition_tasks()
    assert len(tasks) == 5  # every move but FORCED_OPEN and DISABLED, which the operator makes
    for task, (before, after) in tasks.items():
        arguments = states[task]["Arguments"]
        values = arguments["ExpressionAttributeValues"]
        target = re.search(r"#state = (:\w+)", arguments["UpdateExpression"])
        required = re.match(r"#state = (:\w+)", arguments["ConditionExpression"])
        assert target and required, task
        assert (values[required.group(1)]["S"], values[target.group(1)]["S"]) == (before, after), task


def _state_literals(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and STATE_LIKE.match(node.value):
            value = node.value
            if re.search(r"OPEN|CLOSE", value) or value in {"DISABLED", "UNKNOWN"}:
                found.append((node.lineno, value))
    return found


def _python_files(*folders: str) -> list[Path]:
    return sorted(
        p for folder in folders for p in (PROJECT_ROOT / folder).rglob("*.py") if not p.is_symlink() and p != CANONICAL
    )


def test_the_code_spells_no_state_but_through_the_record_module():
    spelled = []
    for path in _python_files("breakwater", "functions"):
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        if any(relative == f or relative.startswith(f + "/") for f in FOREIGN):
            continue
        spelled += [f"{relative}:{line}: {value!r}" for line, value in _state_literals(path)]
    assert spelled == [], "name breaker states as BreakerState members (breakwater/breaker_record.py)"
    assert all((PROJECT_ROOT / f).exists() for f in FOREIGN)  # no reason is left over


@pytest.mark.parametrize("folder", ["tests", "breakwater", "functions"])
def test_every_state_name_in_python_exists(folder: str):
    """Tests may spell states (a record's item holds the names); each one spelled must be a real state."""
    unknown = []
    for path in _python_files(folder):
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        if any(relative == f or relative.startswith(f + "/") for f in FOREIGN):
            continue
        unknown += [
            f"{relative}:{line}: {value!r}"
            for line, value in _state_literals(path)
            if value not in STATES and value != record.UNREADABLE
        ]
    assert unknown == []


def test_design_lists_exactly_the_attributes_defined():
    design = (PROJECT_ROOT / "docs" / "DESIGN.md").read_text()
    section = design[design.index("## The breaker record") : design.index("## Behaviour")]
    listed = {name for row in re.findall(r"^\| (`[^|]+) \|", section, re.M) for name in re.findall(r"`(\w+)`", row)}
    assert listed | {record.KEY.value} == set(record.ATTRIBUTES)


def test_a_fractional_number_or_an_empty_string_decodes_without_failing():
    item = {"state": {"S": "OPEN"}, "openUntilMs": {"N": "1700000001500.5"}, "mode": {"S": ""}, "version": {"N": "3"}}

    breaker = Breaker.from_item(item, "payment-api")

    assert (breaker.open_until_ms, breaker.mode, breaker.version) == (1700000001500, None, 3)
    assert record.state_of({"state": {"S": ""}}) == "CLOSED"
