"""Static checks of statemachine/circuit_breaker.asl.json against the template and the style rules."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from breakwater.local.compat import substitute_definition
from breakwater.template import PROJECT_ROOT, parameters

ASL_VALIDATOR = PROJECT_ROOT / "node_modules" / ".bin" / "asl-validator"
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")

# Substitutions that CloudFormation fills from resources, not parameters: stand-ins
# shaped like the real values.
RESOURCE_STAND_INS = {
    "Partition": "aws",
    "BreakerTableName": "breakwater-BreakerTable-EXAMPLE",
    "FallbackQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/breakwater-FallbackQueue-EXAMPLE",
    "PaymentFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:breakwater-PaymentFunction-EXAMPLE",
}

READ_STATE = "Read breaker state"
# An optimized service integration names no region and no account, and takes its
# partition from a substitution, e.g. arn:${Partition}:states:::dynamodb:getItem.
# It is the only ARN a Task may spell out.
SERVICE_INTEGRATION = re.compile(r"arn:\$\{Partition\}:states:::[a-z0-9-]+:[A-Za-z0-9.]+")
ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


# --- helpers ---------------------------------------------------------------------------


def scopes(definition: dict[str, Any], where: str = "top level") -> Iterator[tuple[str, dict[str, Any]]]:
    """Each state graph (``StartAt`` + ``States``): the top level and any Parallel/Map inside."""
    yield where, definition
    for name, state in definition["States"].items():
        for index, branch in enumerate(state.get("Branches", [])):
            yield from scopes(branch, f"{name} branch {index}")
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from scopes(state[key], f"{name} {key}")


def all_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for _, scope in scopes(definition):
        yield from scope["States"].items()


def transitions(state: dict[str, Any]) -> list[str]:
    targets = [state[key] for key in ("Next", "Default") if key in state]
    targets += [choice["Next"] for choice in state.get("Choices", []) if "Next" in choice]
    targets += [catcher["Next"] for catcher in state.get("Catch", []) if "Next" in catcher]
    return targets


def strings_with_keys(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string value (and every key) in ``node``, with the key it sits under."""
    if isinstance(node, dict):
        for k, value in node.items():
            yield k, k
            yield from strings_with_keys(value, k)
    elif isinstance(node, list):
        for value in node:
            yield from strings_with_keys(value, key)
    elif isinstance(node, str):
        yield key, node


def substituted_text(asl_text: str, substitutions: dict[str, Any], template: dict[str, Any]) -> str:
    """The definition as deployed with the parameter defaults and stand-in resource values."""
    specs = parameters(template)
    values: dict[str, str] = {}
    for key, source in substitutions.items():
        if isinstance(source, dict) and source.get("Ref") in specs:
            default = specs[source["Ref"]].default
            assert default is not None, f"{key} refers to parameter {source['Ref']}, which has no default"
            values[key] = default
        else:
            assert key in RESOURCE_STAND_INS, f"substitution {key} = {source!r} needs a stand-in value in this test"
            values[key] = RESOURCE_STAND_INS[key]
    text = substitute_definition(asl_text, values)
    assert PLACEHOLDER.findall(text) == [], "placeholders left after substitution"
    return text


def run_asl_validator(path: Path) -> subprocess.CompletedProcess[str]:
    if not ASL_VALIDATOR.exists():
        pytest.fail(f"{ASL_VALIDATOR} is missing: run `make install` (npm ci) to install the Node tools")
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: install Node.js and run `make install`")
    return subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def validator_report(result: subprocess.CompletedProcess[str]) -> str:
    output = f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    return f"asl-validator exit code {result.returncode}\n{output}"


# --- 2. placeholders and DefinitionSubstitutions --------------------------------------


def test_every_placeholder_has_a_substitution(asl_text: str, substitutions: dict[str, Any]) -> None:
    placeholders = set(PLACEHOLDER.findall(asl_text))
    assert placeholders, "the definition uses no ${...} placeholders at all"
    missing = sorted(placeholders - set(substitutions))
    assert missing == [], f"placeholders without a DefinitionSubstitutions key: {missing}"


def test_every_substitution_is_used(asl_text: str, substitutions: dict[str, Any]) -> None:
    unused = sorted(set(substitutions) - set(PLACEHOLDER.findall(asl_text)))
    assert unused == [], f"DefinitionSubstitutions keys the definition never uses: {unused}"


# --- 4. asl-validator ----------------------------------------------------------------


def test_asl_validator_accepts_the_substituted_definition(
    asl_text: str, substitutions: dict[str, Any], template: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "circuit_breaker.asl.json"
    path.write_text(substituted_text(asl_text, substitutions, template))
    json.loads(path.read_text())
    result = run_asl_validator(path)
    assert result.returncode == 0, validator_report(result)


def test_asl_validator_rejects_a_broken_definition(
    asl_text: str, substitutions: dict[str, Any], template: dict[str, Any], tmp_path: Path
) -> None:
    """The validator really checks: drop the start state and it must complain."""
    broken = json.loads(substituted_text(asl_text, substitutions, template))
    del broken["States"][broken["StartAt"]]
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken))
    result = run_asl_validator(path)
    assert result.returncode != 0, validator_report(result)


# --- 5. style rules -----------------------------------------------------------------------


def test_query_language_is_jsonata(definition: dict[str, Any]) -> None:
    assert definition.get("QueryLanguage") == "JSONata"
    overridden = {name: s["QueryLanguage"] for name, s in all_states(definition) if "QueryLanguage" in s}
    assert all(value == "JSONata" for value in overridden.values()), overridden


def test_no_pass_states(definition: dict[str, Any]) -> None:
    assert [name for name, state in all_states(definition) if state["Type"] == "Pass"] == []


def test_every_choice_has_a_default(definition: dict[str, Any]) -> None:
    missing = [name for name, state in all_states(definition) if state["Type"] == "Choice" and not state.get("Default")]
    assert missing == []


def test_every_fail_has_error_and_cause(definition: dict[str, Any]) -> None:
    fails = {name: state for name, state in all_states(definition) if state["Type"] == "Fail"}
    assert fails, "the definition has no Fail state"
    incomplete = [name for name, state in fails.items() if not state.get("Error") or not state.get("Cause")]
    assert incomplete == []


def test_every_retrier_has_a_comment_and_no_states_all(definition: dict[str, Any]) -> None:
    retriers = [(name, r) for name, state in all_states(definition) for r in state.get("Retry", [])]
    assert retriers, "the definition has no Retry at all"
    uncommented = [name for name, r in retriers if not (isinstance(r.get("Comment"), str) and r["Comment"].strip())]
    assert uncommented == []
    catch_all = [name for name, r in retriers if "States.ALL" in r["ErrorEquals"]]
    assert catch_all == []


def test_states_all_only_as_the_last_catcher(definition: dict[str, Any], asl_text: str) -> None:
    last_catchers = 0
    for name, state in all_states(definition):
        catchers = state.get("Catch", [])
        for index, catcher in enumerate(catchers):
            if "States.ALL" in catcher["ErrorEquals"]:
                assert index == len(catchers) - 1, f"{name}: States.ALL in catcher {index} of {len(catchers)}"
                assert catcher["ErrorEquals"] == ["States.ALL"], f"{name}: States.ALL must stand alone"
                last_catchers += 1
    # ...and nowhere else in the file (Retry, Choice conditions, Fail errors).
    assert asl_text.count('"States.ALL"') == last_catchers


def test_no_literal_arn_or_account_id(definition: dict[str, Any], asl_text: str) -> None:
    offending = []
    for key, text in strings_with_keys(definition):
        if "arn:" in text.lower() and not (key == "Resource" and SERVICE_INTEGRATION.fullmatch(text)):
            offending.append((key, text))
    assert offending == [], f"literal ARNs (use a DefinitionSubstitutions placeholder): {offending}"
    assert ACCOUNT_ID.findall(asl_text) == [], "a 12-digit account id appears in the definition"


def test_every_transition_names_an_existing_state(definition: dict[str, Any]) -> None:
    for where, scope in scopes(definition):
        names = set(scope["States"])
        assert scope["StartAt"] in names, f"{where}: StartAt {scope['StartAt']!r} is not a state"
        dangling = [
            (name, target)
            for name, state in scope["States"].items()
            for target in transitions(state)
            if target not in names
        ]
        assert dangling == [], f"{where}: transitions to missing states"


def test_every_state_is_reachable(definition: dict[str, Any]) -> None:
    for where, scope in scopes(definition):
        states = scope["States"]
        seen = {scope["StartAt"]}
        frontier = [scope["StartAt"]]
        while frontier:
            for target in transitions(states.get(frontier.pop(), {})):
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert sorted(set(states) - seen) == [], f"{where}: states unreachable from {scope['StartAt']!r}"


# --- 6. the breaker key and the validation cannot drift ----------------------------


@pytest.fixture
def read_state(definition: dict[str, Any]) -> dict[str, Any]:
    assert READ_STATE in definition["States"], f"no state named {READ_STATE!r}"
    state = definition["States"][READ_STATE]
    assert definition["StartAt"] == READ_STATE
    assert state["Resource"].endswith(":dynamodb:getItem")
    assert state.get("Catch"), f"{READ_STATE} has no Catch"
    return state  # type: ignore[no-any-return]


def test_breaker_key_expression_is_identical_everywhere(read_state: dict[str, Any]) -> None:
    key = read_state["Arguments"]["Key"]["serviceName"]["S"]
    assert key.startswith("{%") and key.endswith("%}"), f"the key is not a JSONata expression: {key!r}"
    assert "${ServiceName}" in key, "the key does not fall back to the ServiceName parameter"
    assert read_state["Assign"]["service"] == key
    for index, catcher in enumerate(read_state["Catch"]):
        assert catcher.get("Assign", {}).get("service") == key, f"Catch[{index}] Assign.service differs from the key"


def test_validation_expression_is_identical_in_assign_and_catch(read_state: dict[str, Any]) -> None:
    problem = read_state["Assign"]["problem"]
    assert problem.startswith("{%") and problem.endswith("%}")
    for index, catcher in enumerate(read_state["Catch"]):
        assert catcher.get("Assign", {}).get("problem") == problem, f"Catch[{index}] Assign.problem differs"


def test_catch_assigns_the_same_variables_as_the_read(read_state: dict[str, Any]) -> None:
    """Every later state reads these variables, whichever way the read ended."""
    for index, catcher in enumerate(read_state["Catch"]):
        assert set(catcher.get("Assign", {})) == set(read_state["Assign"]), f"Catch[{index}] assigns other variables"
