"""The cost budget (breakwater/budget.py) and the paths' names (the ASL source's x-paths): one vocabulary."""

from __future__ import annotations

import re

from breakwater import capacity
from breakwater.asl import path_rules
from breakwater.budget import BUDGET, ROWS, over_budget
from breakwater.executions import PathCost

# A name with {breaker} stands for one per breaker state ("{breaker}, shadow call": "open, shadow call", ...).
PATTERNS = [re.escape(str(rule["name"])).replace(r"\{breaker\}", "[a-z_]+") for rule in path_rules()]


def named(path: str) -> bool:
    return any(re.fullmatch(pattern, path) for pattern in PATTERNS)


def test_every_budget_row_is_a_path_the_source_names():
    assert [row.path for row in ROWS if not named(row.path)] == []
    assert len(BUDGET) == len(ROWS)  # one row per path


def test_the_capacity_model_names_paths_the_source_names():
    assert [use.name for use in capacity.PATHS if not named(use.name)] == []


def test_over_budget_names_what_is_spent_beyond_the_row():
    row = BUDGET["open, fast fail"]

    assert over_budget("open, fast fail", row) == []
    assert over_budget("open, fast fail", PathCost(row.states_entered + 1, 1, 0, 0, 1)) == [
        f"open, fast fail: {row.states_entered + 1} states, at most {row.states_entered}"
    ]
    assert over_budget("open, fast fail", PathCost(1, 1, 1, 0, 1)) == ["open, fast fail: 1 writes, budget 0"]
    assert over_budget("a path without a row", PathCost(99, 9, 9, 9, 9)) == []
