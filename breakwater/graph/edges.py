"""The state machine's transitions, what each decision means, execution counts, and Mermaid text.

The definition is the parsed ASL document (``breakwater.template.load_definition()``). Only the
top-level states count; transitions come from ``Next``, ``Choices[].Next``, ``Default`` and
``Catch[].Next``. Executions are given as paths (the ordered names of the states entered), which
:func:`counts_from_paths` turns into per-state and per-transition counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from breakwater.asl import state_metadata

TERMINAL_TYPES = ("Succeed", "Fail")
TIMES = "\N{MULTIPLICATION SIGN}"
TAKEN = "#1f5fbf"  # the colour of what an execution took, in Mermaid and in the picture


def _states(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    states = definition.get("States")
    if not isinstance(states, Mapping) or not states:
        raise ValueError("definition has no States")
    start = definition.get("StartAt")
    if start not in states:
        raise ValueError(f"StartAt {start!r} is not a state")
    return {str(name): spec for name, spec in states.items()}


def decisions() -> dict[str, dict[str, str]]:
    """What each decision of the workflow means, per Choice state and target: the text on its edge in the picture
    and in Mermaid. The ASL carries no text on a choice rule (a JSONata rule has Condition, Next, Assign and
    Output), so the source says it beside the rules, as ``x-decisions`` (breakwater/asl.py);
    tests/unit/test_graph.py checks that every Choice edge has one, and none is left over."""
    return {
        state: {str(t): str(label) for t, label in targets.items()}
        for state, targets in state_metadata("x-decisions").items()
    }


def decision(source: str, target: str) -> str | None:
    """The meaning of the decision ``source`` -> ``target`` (None: not a decision we name)."""
    return decisions().get(source, {}).get(target)


def edges(definition: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every transition as ``(source, target, label)``, in definition order.

    Per state the order is ``Next``, ``Choices`` (label ``"choice"``), ``Default`` and ``Catch``
    (label ``"catch: <ErrorEquals joined by commas>"``). When one state reaches the same target more
    than once, only the first transition (and its label) is kept.
    """
    result: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(source: str, target: Any, label: str) -> None:
        if isinstance(target, str) and (source, target) not in seen:
            seen.add((source, target))
            result.append((source, target, label))

    for name, spec in _states(definition).items():
        add(name, spec.get("Next"), "next")
        for choice in spec.get("Choices") or ():
            add(name, choice.get("Next"), "choice")
        add(name, spec.get("Default"), "default")
        for catcher in spec.get("Catch") or ():
            errors = ",".join(str(error) for error in catcher.get("ErrorEquals") or ())
            add(name, catcher.get("Next"), f"catch: {errors}")
    return result


def path_transitions(path: Sequence[str]) -> list[tuple[str, str]]:
    """The transitions taken along an execution path: its consecutive pairs."""
    return list(itertools.pairwise(path))


def counts_from_paths(paths: Iterable[Sequence[str]]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """How often each state was entered and each transition taken, summed over ``paths``."""
    state_counts: dict[str, int] = {}
    edge_counts: dict[tuple[str, str], int] = {}
    for path in paths:
        for state in path:
            state_counts[state] = state_counts.get(state, 0) + 1
        for pair in path_transitions(path):
            edge_counts[pair] = edge_counts.get(pair, 0) + 1
    return state_counts, edge_counts


# --------------------------------------------------------------------------- Mermaid


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(
    definition: Mapping[str, Any],
    counts: Mapping[str, int] | None = None,
    highlight: Iterable[str] = (),
) -> str:
    """A Mermaid ``flowchart TD`` of the state machine.

    Node ids are ``s0``, ``s1``... in definition order; Choice states are rhombi, Succeed/Fail
    stadiums, other states rectangles. A positive ``counts[state]`` is appended to its label as
    a space, a multiplication sign and the count; states in ``highlight`` get the ``taken`` class.
    """
    states = _states(definition)
    ids = {name: f"s{index}" for index, name in enumerate(states)}
    lines = ["flowchart TD"]
    for name, spec in states.items():
        label = name
        if counts and counts.get(name, 0) > 0:
            label += f" {TIMES}{counts[name]}"
        label = _mermaid_text(label)
        kind = spec.get("Type")
        if kind == "Choice":
            lines.append(f'    {ids[name]}{{"{label}"}}')
        elif kind in TERMINAL_TYPES:
            lines.append(f'    {ids[name]}(["{label}"])')
        else:
            lines.append(f'    {ids[name]}["{label}"]')
    for source, target, label in edges(definition):
        if target not in ids:
            continue
        if label == "next":
            lines.append(f"    {ids[source]} --> {ids[target]}")
        elif label.startswith("catch"):
            lines.append(f'    {ids[source]} -.->|"{_mermaid_text(label)}"| {ids[target]}')
        else:
            text = decision(source, target) or label
            lines.append(f'    {ids[source]} -->|"{_mermaid_text(text)}"| {ids[target]}')
    marked = list(dict.fromkeys(highlight))
    taken = [ids[name] for name in marked if name in ids]
    if marked:
        lines.append(f"    classDef taken fill:#dbe8ff,stroke:{TAKEN},stroke-width:3px")
    if taken:
        lines.append(f"    class {','.join(taken)} taken")
    return "\n".join(lines) + "\n"
