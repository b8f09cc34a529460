"""The local JSONata answers as the reference implementation, 2.0.6, on the workflow's own evaluations.

Every (expression, bindings) pair the local evaluator was given during a story
of real executions (``jsonata_corpus``) is evaluated again by npm ``jsonata``
at the version pinned in package.json, in one node process, and the answers
must be equal: the same JSON text (``JSON.stringify`` of the result, so key
order and number formatting count), or both undefined, or both an error.
Set ``BREAKWATER_JSONATA_CORPUS=FILE`` to keep the corpus (``jsonata_speed``
times evaluators on it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from breakwater.local import jsonata
from breakwater.local.stack import EmbeddedStack
from tests.requirements import unavailable
from tests.workflow import jsonata_corpus

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_RUNNER = Path(__file__).with_name("jsonata_reference.js")
REFERENCE_PACKAGE = ROOT / "node_modules" / "jsonata" / "package.json"
NODE = shutil.which("node")
NODE_TIMEOUT_SECONDS = 300
CORPUS_VARIABLE = "BREAKWATER_JSONATA_CORPUS"

if NODE is None or not REFERENCE_PACKAGE.exists():
    unavailable("needs node and node_modules (npm ci)", allow_module_level=True)


def reference_answers(cases: list[dict[str, Any]], work: Path) -> list[dict[str, Any]]:
    """Every case evaluated by the reference implementation, in one node process."""
    path = work / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    completed = subprocess.run(
        [str(NODE), str(REFERENCE_RUNNER), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    answers: list[dict[str, Any]] = json.loads(completed.stdout)
    assert len(answers) == len(cases)
    return answers


def local_answer(case: dict[str, Any]) -> dict[str, Any]:
    """The local evaluator's answer, in the runner's terms."""
    try:
        result = jsonata.evaluate(case["expression"], case["bindings"], case["nowMs"])
    except jsonata.JSONataError as exc:
        return {"error": str(exc)}
    if result is jsonata.UNDEFINED:
        return {"undefined": True}
    return {"json": jsonata.to_json(result)}


def same(local: dict[str, Any], reference: dict[str, Any]) -> bool:
    if "error" in local or "error" in reference:
        return "error" in local and "error" in reference
    return local == reference


@pytest.fixture(scope="module")
def corpus(embedded: EmbeddedStack) -> list[dict[str, Any]]:
    cases = jsonata_corpus.to_file_cases(jsonata_corpus.distinct(jsonata_corpus.record(embedded)))
    if os.environ.get(CORPUS_VARIABLE):
        Path(os.environ[CORPUS_VARIABLE]).write_text(json.dumps(cases), encoding="utf-8")
    return cases


def test_the_reference_runner_is_the_pinned_version():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["jsonata"]

    installed = json.loads(REFERENCE_PACKAGE.read_text())["version"]

    assert pinned == installed == jsonata.REFERENCE_VERSION


def test_local_and_reference_jsonata_agree_on_every_evaluation_of_the_workflow(corpus, tmp_path):
    # when
    reference = reference_answers(corpus, tmp_path)
    local = [local_answer(case) for case in corpus]

    # then
    differences = [
        {"expression": case["expression"], "bindings": case["bindings"], "local": mine, "reference": theirs}
        for case, mine, theirs in zip(corpus, local, reference, strict=True)
        if not same(mine, theirs)
    ]
    expressions = {case["expression"] for case in corpus}
    print(f"\njsonata differential: {len(corpus)} distinct evaluations of {len(expressions)} distinct expressions")
    assert differences == [], json.dumps(differences[:5], ensure_ascii=False, indent=1)


def test_the_corpus_reaches_the_cases_where_engines_disagree(corpus):
    bindings = " ".join(json.dumps(case["bindings"], ensure_ascii=False) for case in corpus)
    expressions = {case["expression"] for case in corpus}

    for needle in (jsonata_corpus.EMOJI * 100, "e\u0301", "\u202e", "\u2028", '"1": 2', "1e+300", "9007199254740993"):
        assert needle in bindings
    for call in ("$keys(", "$string({", "$parse(", "$length("):
        assert any(call in expression for expression in expressions)
    assert len(expressions) >= 45
