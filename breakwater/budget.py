"""The cost budget per path: what one execution along each path may use, counted from its history.

One definition: docs/DESIGN.md's table is generated from :data:`ROWS` (``breakwater.docgen``),
``tests/workflow/test_cost_budget.py`` holds every path to its row, and the benchmark judges the paths it
measured against it. A row's name is the path's label, as :attr:`ExecutionResult.label
<breakwater.executions.ExecutionResult.label>` names the path an execution took. States and reads are
maximums; writes, Lambda invocations and SQS messages are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from breakwater.executions import PathCost


@dataclass(frozen=True)
class BudgetRow:
    path: str  # the path's label
    cost: PathCost
    note: str = ""  # what the row covers, when its name does not say it all


ROWS: tuple[BudgetRow, ...] = (
    BudgetRow("closed, success, no prior failures", PathCost(5, 1, 0, 1, 0)),
    BudgetRow("open, fast fail", PathCost(4, 1, 0, 0, 1)),
    BudgetRow("closed, failure below threshold", PathCost(6, 1, 1, 1, 1)),
    BudgetRow("closed, failure that trips", PathCost(7, 1, 2, 1, 1), "by the count or the rate rule: queued"),
    BudgetRow("invalid input", PathCost(3, 1, 0, 0, 0), "at most 1 read"),
    BudgetRow("closed, success inside a window with failures", PathCost(6, 1, 1, 1, 0), "rate rule on"),
    BudgetRow("closed, slow success", PathCost(6, 1, 1, 1, 0)),
    BudgetRow("closed, trip by a charged call", PathCost(7, 1, 2, 1, 0), "slow, or a success under the rate rule"),
    BudgetRow("open, shadow call", PathCost(3, 1, 0, 1, 0), "SHADOW where ENFORCE queues"),
    BudgetRow("breaker table busy", PathCost(3, 1, 0, 0, 1), "the read throttled"),
    BudgetRow("bulkhead full", PathCost(4, 1, 0, 1, 1), "Lambda refused the call: not billed"),
)
BUDGET: dict[str, PathCost] = {row.path: row.cost for row in ROWS}
HEALTHY = PathCost(3, 1, 0, 1, 0)  # the healthy path (closed, no failure in a live window), whatever the parameters


def over_budget(path: str, cost: PathCost) -> list[str]:
    """What ``cost`` spends beyond its path's row (empty: within budget; a path without a row has no budget)."""
    budget = BUDGET.get(path)
    if budget is None:
        return []
    problems = [
        f"{path}: {used} {what}, at most {limit}"
        for what, used, limit in (
            ("states", cost.states_entered, budget.states_entered),
            ("reads", cost.dynamodb_reads, budget.dynamodb_reads),
        )
        if used > limit
    ]
    problems += [
        f"{path}: {used} {what}, budget {limit}"
        for what, used, limit in (
            ("writes", cost.dynamodb_writes, budget.dynamodb_writes),
            ("Lambda invocations", cost.lambda_invocations, budget.lambda_invocations),
            ("SQS messages", cost.sqs_messages, budget.sqs_messages),
        )
        if used != limit
    ]
    return problems
