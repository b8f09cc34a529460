"""The state-machine picture: transitions, layout, Mermaid text and rendered files."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from breakwater.graph import counts_from_paths, edges, layout, path_transitions, render, to_mermaid
from breakwater.template import load_definition

READ = "Read breaker state"
GATE = "Is the order valid and the circuit closed?"
CALL = "Call payment provider"
COUNT = "Count the failure"
THRESHOLD = "Has the failure count reached the threshold?"
QUEUE = "Queue order for later"
TIMES = "\N{MULTIPLICATION SIGN}"

# A plausible execution: a failed call that does not reach the threshold, so the order is queued.
FAILED_CALL = [READ, GATE, CALL, COUNT, THRESHOLD, QUEUE]
TIMELINE = [(0.0, "CLOSED"), (12.5, "OPEN"), (40.0, "HALF_OPEN"), (41.0, "CLOSED"), (50.0, "FORCED_OPEN")]


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return load_definition()


def cyclic() -> dict[str, Any]:
    """A small machine with a retry loop back to the start and a self-loop."""
    return {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Task", "Next": "B"},
            "B": {"Type": "Choice", "Choices": [{"Next": "A"}, {"Next": "B"}], "Default": "C"},
            "C": {"Type": "Task", "Next": "D", "Catch": [{"ErrorEquals": ["X", "Y"], "Next": "E"}]},
            "D": {"Type": "Succeed"},
            "E": {"Type": "Fail"},
        },
    }


def test_edges_of_the_real_definition(definition):
    found = edges(definition)
    assert (READ, GATE, "next") in found
    # Read breaker state also catches States.ALL to the same target: the first label wins.
    assert [label for s, t, label in found if (s, t) == (READ, GATE)] == ["next"]
    assert (CALL, "Report declined payment", "catch: PaymentDeclined") in found
    assert (GATE, "Call provider without recording", "default") in found
    assert (GATE, CALL, "choice") in found
    pairs = [(s, t) for s, t, _ in found]
    assert len(pairs) == len(set(pairs))
    states = set(definition["States"])
    assert all(s in states and t in states for s, t in pairs)


def test_every_decision_of_the_workflow_has_a_meaning_and_none_is_left_over(definition):
    from breakwater.graph import decision, decisions

    choice_edges = {(s, t) for s, t, kind in edges(definition) if kind in ("choice", "default")}

    assert all(decision(s, t) for s, t in choice_edges), [p for p in choice_edges if not decision(*p)]
    assert {(s, t) for s, targets in decisions().items() for t in targets} == choice_edges


def test_mermaid_puts_the_decisions_meaning_on_its_edge(definition):
    from breakwater.graph import to_mermaid

    text = to_mermaid(definition)

    assert '-->|"invalid"|' in text
    assert '-->|"cooldown over"|' in text


def test_edges_labels_and_order():
    assert edges(cyclic()) == [
        ("A", "B", "next"),
        ("B", "A", "choice"),
        ("B", "B", "choice"),
        ("B", "C", "default"),
        ("C", "D", "next"),
        ("C", "E", "catch: X,Y"),
    ]


def test_layout_places_every_state_with_start_on_top(definition):
    positions = layout(definition)
    assert set(positions) == set(definition["States"])
    top = max(y for _, y in positions.values())
    assert positions[definition["StartAt"]][1] == top
    assert [name for name, (_, y) in positions.items() if y == top] == [READ]


def test_layout_layers_follow_the_longest_path(definition):
    positions = layout(definition)
    rows = sorted({y for _, y in positions.values()}, reverse=True)
    layer = {name: rows.index(y) for name, (_, y) in positions.items()}
    assert layer[READ] == 0
    assert layer[GATE] == 1
    # Every forward edge goes strictly down (the real machine has no cycles).
    assert all(layer[t] > layer[s] for s, t, _ in edges(definition))
    # Longest path: Open the circuit sits below the threshold check that leads to it.
    assert layer[QUEUE] > layer["Open the circuit"] > layer[THRESHOLD]


def test_layout_boxes_do_not_overlap(definition):
    positions = layout(definition)
    rows: dict[float, list[float]] = {}
    for x, y in positions.values():
        rows.setdefault(y, []).append(x)
    for xs in rows.values():
        xs.sort()
        assert all(b - a >= 2.0 for a, b in itertools.pairwise(xs))


def test_layout_is_deterministic(definition):
    first = layout(definition)
    assert layout(copy.deepcopy(definition)) == first
    assert list(layout(definition).items()) == list(first.items())


def test_layout_ignores_back_edges():
    positions = layout(cyclic())
    assert positions["A"][1] > positions["B"][1] > positions["C"][1] > positions["D"][1]
    assert positions["D"][1] == positions["E"][1]


def test_path_transitions():
    assert path_transitions(["a", "b", "c"]) == [("a", "b"), ("b", "c")]
    assert path_transitions(["a"]) == []


def test_counts_from_paths():
    states, transitions = counts_from_paths([["a", "b", "c"], ["a", "b", "b", "d"]])
    assert states == {"a": 2, "b": 3, "c": 1, "d": 1}
    assert transitions == {("a", "b"): 2, ("b", "c"): 1, ("b", "b"): 1, ("b", "d"): 1}


def test_counts_from_paths_takes_generators():
    states, transitions = counts_from_paths(p for p in ([READ, GATE], [READ]))
    assert states == {READ: 2, GATE: 1}
    assert transitions == {(READ, GATE): 1}


def test_mermaid_names_every_state_and_marks_the_taken_ones(definition):
    text = to_mermaid(definition, counts={READ: 3, GATE: 2}, highlight=[READ, GATE])
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    for name in definition["States"]:
        assert name in text
    assert "classDef taken" in text
    assert f'    s0["Read breaker state {TIMES}3"]' in lines
    assert f'    s1{{"Is the order valid and the circuit closed? {TIMES}2"}}' in lines
    assert '    s2(["Reject invalid order"])' in lines
    assert "    class s0,s1 taken" in lines
    assert "    s0 --> s1" in lines
    node_ids = set(re.findall(r"^\s+(s\d+)[\[{(]", text, flags=re.MULTILINE))
    assert len(node_ids) == len(definition["States"])


def test_mermaid_without_highlight_has_no_taken_class(definition):
    text = to_mermaid(definition)
    assert "classDef taken" not in text
    assert TIMES not in text
    assert len([line for line in text.splitlines() if "-->" in line or "-.->" in line]) == len(edges(definition))


def test_render_svg_with_counts_and_timeline(definition, tmp_path):
    states, transitions = counts_from_paths([FAILED_CALL, FAILED_CALL, [READ, GATE, CALL]])
    out = render(definition, tmp_path / "graph.svg", states, transitions, TIMELINE, title="three orders")
    assert out == tmp_path / "graph.svg"
    text = out.read_text()
    assert text.startswith("<?xml") or "<svg" in text
    assert "<svg" in text


def test_render_png(definition, tmp_path):
    states, transitions = counts_from_paths([FAILED_CALL])
    out = render(definition, tmp_path / "nested" / "graph.png", states, transitions, timeline=TIMELINE)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 800 < width < 6000
    assert 800 < height < 8000


def test_render_without_counts_and_with_loops(tmp_path):
    out = render(cyclic(), tmp_path / "cyclic.png", edge_counts={("B", "B"): 2, ("B", "A"): 1})
    assert out.read_bytes().startswith(b"\x89PNG")


def test_render_is_deterministic(definition, tmp_path):
    states, transitions = counts_from_paths([FAILED_CALL])
    first = render(definition, tmp_path / "a.svg", states, transitions, TIMELINE).read_bytes()
    second = render(definition, tmp_path / "b.svg", states, transitions, TIMELINE).read_bytes()
    assert first == second


@pytest.mark.parametrize("name", ["graph.txt", "graph.pdf", "graph"])
def test_render_rejects_other_suffixes(definition, tmp_path, name):
    with pytest.raises(ValueError, match=re.escape(Path(name).suffix or "suffix")):
        render(definition, tmp_path / name)
    assert not (tmp_path / name).exists()


def test_render_rejects_a_definition_without_states(tmp_path):
    with pytest.raises(ValueError, match="States"):
        render({"StartAt": "A", "States": {}}, tmp_path / "empty.png")
