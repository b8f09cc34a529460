"""Time per evaluation of the workflow's real expressions, three ways (the figures in docs/local-jsonata.md).

    BREAKWATER_JSONATA_CORPUS=/tmp/corpus.json .venv/bin/pytest -q tests/workflow/test_jsonata_differential.py
    .venv/bin/python -m tests.workflow.jsonata_speed /tmp/corpus.json

* ``local``: breakwater.local.jsonata, variables as bindings, each expression parsed once;
* ``text``: jsonata-python as moto drove it before, the variables written into the expression
  text as JSON and the whole text parsed for every evaluation;
* ``node``: the reference implementation in one persistent node process (jsonata_reference.js
  --serve), one JSON line out and one back per evaluation.

It also counts how many of the corpus' evaluations each Python way answers differently from the
reference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from jsonata import jsonata as jsonata_lib
from jsonata import timebox

from breakwater.local import jsonata
from tests.workflow.test_jsonata_differential import NODE, REFERENCE_RUNNER, ROOT, reference_answers, same

ROUNDS = 5


def text_answer(case: dict[str, Any]) -> dict[str, Any]:
    """jsonata-python 0.7.1 driven as before: ``($name:=<json>;...expression)``, parsed every time."""
    declarations = "".join(
        f"${name}:={json.dumps(value, separators=(',', ':'))};" for name, value in case["bindings"].items()
    )
    try:
        program = jsonata_lib.Jsonata(f"({declarations}{case['expression']})")
        program.set_output_convert_nulls(False)  # keep null apart from undefined
        result = program.evaluate(None)
    except Exception as exc:  # jsonata-python raises several unrelated types
        return {"error": str(exc)}
    return {"undefined": True} if result is None else {"json": jsonata.to_json(result)}


def text_answer_at_case_time(case: dict[str, Any]) -> dict[str, Any]:
    with mock.patch.object(timebox.Timebox, "current_milli_time", return_value=case["nowMs"]):
        return text_answer(case)


def local_answer(case: dict[str, Any]) -> dict[str, Any]:
    from tests.workflow.test_jsonata_differential import local_answer as answer

    return answer(case)


def per_evaluation_us(answer: Callable[[dict[str, Any]], Any], cases: list[dict[str, Any]]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for case in cases:
            answer(case)
        best = min(best, time.perf_counter() - started)
    return best / len(cases) * 1e6


def node_per_evaluation_us(cases: list[dict[str, Any]]) -> float:
    worker = subprocess.Popen(
        [str(NODE), str(REFERENCE_RUNNER), "--serve"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert worker.stdin is not None and worker.stdout is not None
    try:

        def answer(case: dict[str, Any]) -> Any:
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(json.dumps(case) + "\n")
            worker.stdin.flush()
            return json.loads(worker.stdout.readline())

        return per_evaluation_us(answer, cases)
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)


def main(corpus_path: str) -> None:
    import tempfile

    cases: list[dict[str, Any]] = json.loads(Path(corpus_path).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as work:
        reference = reference_answers(cases, Path(work))
    for case in cases:  # parse once before timing, as a warm local stack has
        jsonata.compile_expression(case["expression"])
    print(f"corpus: {len(cases)} evaluations of {len({c['expression'] for c in cases})} expressions")
    for name, answer, at_case_time in (
        ("local", local_answer, local_answer),
        ("text", text_answer, text_answer_at_case_time),
    ):
        differing = sum(not same(at_case_time(c), r) for c, r in zip(cases, reference, strict=True))
        print(f"{name:>5}: {per_evaluation_us(answer, cases):8.1f} us per evaluation, {differing} differ from 2.0.6")
    print(f" node: {node_per_evaluation_us(cases):8.1f} us per evaluation (the reference itself)")


if __name__ == "__main__":
    main(sys.argv[1])
