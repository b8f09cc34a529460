"""The authored workflow (statemachine/circuit_breaker.asl.yaml) and the ASL generated from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from breakwater import asl
from breakwater.template import ASL_PATH
from tests.template.test_definition import strings_with_keys

JSONATA = re.compile(r"\{%.*?%\}")


def test_the_committed_asl_is_what_the_source_generates() -> None:
    assert ASL_PATH.read_text() == asl.generated(), "statemachine/circuit_breaker.asl.json is stale: run `make asl`"


def test_make_asl_check_fails_on_a_stale_file_and_write_repairs_it(tmp_path: Path, capsys) -> None:
    stale = tmp_path / "out.asl.json"
    stale.write_text(ASL_PATH.read_text().replace("Read breaker state", "Read the breaker", 1))
    assert asl.main(["--output", str(stale), "--check"]) == 1
    assert "run `make asl`" in capsys.readouterr().err
    assert asl.main(["--output", str(stale)]) == 0
    assert stale.read_text() == ASL_PATH.read_text()
    assert asl.main(["--output", str(stale), "--check"]) == 0


def test_the_source_says_each_repeated_block_once() -> None:
    source = asl.SOURCE_PATH.read_text()
    definition = json.loads(ASL_PATH.read_text())
    retriers = [r for state in definition["States"].values() for r in state.get("Retry", [])]
    faults = [r for r in retriers if r["ErrorEquals"][0] == "DynamoDB.InternalServerErrorException"]
    throttles = [r for r in retriers if r["ErrorEquals"][0] == "DynamoDB.ProvisionedThroughputExceededException"]
    assert len(faults) >= 11 and len(throttles) == len(faults) - 1  # every DynamoDB task, and every write...
    assert source.count("DynamoDB.ThrottlingException") == 1  # ...written once
    assert source.count("- *dynamodb-fault-retry") == len(faults)
    assert source.count("- *dynamodb-throttle-retry") == len(throttles)
    catchers = [c for state in definition["States"].values() for c in state.get("Catch", [])]
    bookkeeping = [c for c in catchers if c.get("Comment", "").startswith("The breaker could not be written")]
    assert len(bookkeeping) >= 7
    assert source.count("The breaker could not be written") == 1
    # Every anchor defined in x-shared is used, and the window test is computed once.
    anchors = re.findall(r"&([a-z-]+)", source)
    assert anchors and all(f"*{name}" in source for name in anchors), anchors
    assert source.count("FailureWindowSeconds} * 1000") == 1


def test_generated_expressions_are_one_line_without_comments() -> None:
    definition = json.loads(ASL_PATH.read_text())
    expressions = JSONATA.findall(json.dumps(definition, ensure_ascii=False))
    assert expressions
    assert [e for e in expressions if "/*" in e or "\\n" in e] == []
    assert "x-shared" not in definition


def test_the_source_keeps_its_lines_short() -> None:
    lines = asl.SOURCE_PATH.read_text().splitlines()
    assert max(len(line) for line in lines) <= 120


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("{% $x %}", "{% $x %}"),
        ("{%\n  $a\n  and $b\n%}", "{% $a and $b %}"),
        ("{% (\n  $a := 1;\n  $a\n) %}", "{% ($a := 1; $a) %}"),
        ("{% $merge([\n  {'a': 1},\n  {\n    'b': 2\n  }\n]) %}", "{% $merge([{'a': 1}, {'b': 2}]) %}"),
        ("{% $a /* why */ and $b %}", "{% $a and $b %}"),
        ("{% $a\n  /* why,\n     over lines */\n  ? 1 : 2 %}", "{% $a ? 1 : 2 %}"),
        ("{% 'not /* a comment */ here' %}", "{% 'not /* a comment */ here' %}"),
        ("{% \"two  spaces\" & 'it\\'s' %}", "{% \"two  spaces\" & 'it\\'s' %}"),
        ("{% $a  =  $b %}", "{% $a  =  $b %}"),  # spacing within a line is the author's
        ("{% $contains($s, /[^A-Z]/) %}", "{% $contains($s, /[^A-Z]/) %}"),
        ("{% $a/*c*/and/*c*/$b %}", "{% $a and $b %}"),  # a comment separates as a space does
        ("{% $contains($s, /[/*]/)\n  /* x */\n  and $b %}", "{% $contains($s, /[/*]/) and $b %}"),
        ("{% $replace($s, /a\\/*/, '') /* x */ %}", "{% $replace($s, /a\\/*/, '') %}"),
        ("{% $match($s, /it's/i) %}", "{% $match($s, /it's/i) %}"),
        ("{% $o.`it's /* here` %}", "{% $o.`it's /* here` %}"),
        ("{% $a / 2 /* half */ %}", "{% $a / 2 %}"),
        ("{% ($x)/$y %}", "{% ($x)/$y %}"),
        ("{% $a\r\n  and\t$b %}", "{% $a and\t$b %}"),
    ],
)
def test_fold_jsonata(written: str, folded: str) -> None:
    assert asl.fold_jsonata(written) == folded


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("{% 'open %}", "unterminated string literal"),
        ("{% $a /* open %}", "unterminated comment"),
        ("{% $o.`open %}", "unterminated name"),
        ("{% $match($s, /open) %}", "unterminated regex"),
    ],
)
def test_fold_jsonata_names_what_is_broken(written: str, message: str) -> None:
    with pytest.raises(asl.AslSourceError, match=message):
        asl.fold_jsonata(written)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "source.asl.yaml"
    path.write_text(text)
    return path


MINIMAL = "StartAt: Done\nStates:\n  Done:\n    Type: Succeed\n"


def test_a_key_written_twice_is_refused_but_a_merge_override_is_not(tmp_path: Path) -> None:
    twice = write(tmp_path, MINIMAL + "    Type: Fail\n")
    with pytest.raises(asl.AslSourceError, match="key 'Type' is written twice"):
        asl.load_source(twice)
    merged = write(
        tmp_path,
        "x-shared:\n  end: &end\n    Type: Succeed\n    Comment: shared\n"
        "StartAt: Done\nStates:\n  Done:\n    <<: *end\n    Comment: own\n",
    )
    assert asl.load_source(merged)["States"]["Done"] == {"Type": "Succeed", "Comment": "own"}


@pytest.mark.parametrize("spelling", ["yes", "No", "ON", "off", "True", "FALSE"])
def test_a_yaml_1_1_boolean_is_refused_by_name(tmp_path: Path, spelling: str) -> None:
    with pytest.raises(asl.AslSourceError, match=f"'{spelling}' .* write true or false, or quote it"):
        asl.load_source(write(tmp_path, MINIMAL + f"    Comment: {spelling}\n"))


def test_scalars_resolve_as_json_does(tmp_path: Path) -> None:
    written = "[true, false, null, 0, -12, 1.5, 2e3, 1:30, 010, 0x1F, 1_000, .nan, 2024-01-01, 'on', ~]"
    state = asl.load_source(write(tmp_path, MINIMAL + f"    Output: {written}\n"))["States"]["Done"]
    assert state["Output"] == [
        *(True, False, None, 0, -12, 1.5, 2000.0),
        *("1:30", "010", "0x1F", "1_000", ".nan", "2024-01-01", "on"),
        None,
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list\n", "must be a mapping with States"),
        ("x-other: 1\n" + MINIMAL, r"unknown top-level keys \['x-other'\]"),
        ("States: [\n", "not valid YAML"),
        (
            "x-shared:\n  a: &a {Type: Succeed}\n  b: &b {Comment: b}\n"
            "StartAt: Done\nStates:\n  Done:\n    <<: *a\n    <<: *b\n",
            "a second <<: merge",
        ),
        (MINIMAL + '    Output: "{% $a %} and more"\n', "must end with %}"),
    ],
)
def test_a_broken_source_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(asl.AslSourceError, match=message):
        asl.load_source(write(tmp_path, text))
    assert asl.main(["--source", str(tmp_path / "source.asl.yaml"), "--output", str(tmp_path / "o.json")]) == 2
    assert not (tmp_path / "o.json").exists()


def _shape(node: object, seen: frozenset[int] = frozenset()) -> object:
    """A parse tree as plain data, without source positions (equal trees: the same expression)."""
    if isinstance(node, (str, int, float, bool, type(None))):
        return node
    if isinstance(node, (list, tuple)):
        return [_shape(item, seen) for item in node]
    if isinstance(node, dict):
        return {key: _shape(value, seen) for key, value in node.items()}
    if id(node) in seen or not hasattr(node, "__dict__"):
        return repr(type(node))
    fields = {k: v for k, v in vars(node).items() if k not in {"position", "errors"} and not k.startswith("_outer")}
    return (type(node).__name__, {k: _shape(v, seen | {id(node)}) for k, v in fields.items()})


def test_folding_never_changes_what_an_expression_parses_to() -> None:
    """Every template of the source, as written and as folded, parses to the same tree (JSONata's parser)."""
    import jsonata
    import yaml

    def tree(template: str) -> object:
        body = re.sub(r"\$\{[A-Za-z]+\}", "1", template)[2:-2]  # a placeholder stands for a number
        return _shape(jsonata.Jsonata(body).ast)

    source = yaml.load(asl.SOURCE_PATH.read_text(), Loader=asl._SourceLoader)
    written = [text for _, text in strings_with_keys(source) if text.startswith("{%")]
    assert len(written) > 100
    multi_line = [t for t in written if "\n" in t]
    assert len(multi_line) >= 10 and any("/*" in t for t in multi_line)
    assert [t[:60] for t in written if tree(t) != tree(asl.fold_jsonata(t))] == []


def test_code_finds_a_state_by_its_role_and_the_deployed_asl_leaves_the_role_out(tmp_path: Path) -> None:
    source = "StartAt: Pay\nStates:\n  Pay:\n    Type: Pass\n    x-role: probe-call\n    Next: Done\n"
    path = write(tmp_path, source + "  Done:\n    Type: Succeed\n")

    assert asl.state_with_role("probe-call", path) == "Pay"
    assert "x-role" not in json.dumps(asl.load_source(path))
    with pytest.raises(asl.AslSourceError, match="0 states have x-role 'window-race'"):
        asl.state_with_role("window-race", path)
    (tmp_path / "twice").mkdir()
    twice = write(tmp_path / "twice", source + "  Done:\n    Type: Succeed\n    x-role: probe-call\n")
    with pytest.raises(asl.AslSourceError, match="2 states have x-role 'probe-call'"):
        asl.state_with_role("probe-call", twice)
