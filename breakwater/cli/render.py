"""What the CLI prints: its two consoles, one-line errors, an execution's result and its history table."""

from __future__ import annotations

import json
import os
import sys

from rich.console import Console
from rich.table import Table

from breakwater.executions import ExecutionResult, event_rows

# markup and emoji off: every value (a service name, an ARN with ":secret:", an error's cause) prints as it is.
# soft_wrap: a line is never broken at the terminal's width (an error stays one line, an ARN stays whole).
console = Console(
    highlight=False,
    soft_wrap=True,
    markup=False,
    emoji=False,
    width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def print_history(result: ExecutionResult) -> None:
    rows = event_rows(result.events)
    day = f" ({rows[0]['time'][:10]}, times UTC)" if rows else ""
    table = Table(title=f"{result.name}: {result.status}{day}", title_justify="left")
    # The key columns (id, type, elapsed, time) keep their width on a narrow terminal; the others fold.
    # Borders and padding take 19 columns; id, type, "Started after" and time 45: step and resource share the rest.
    room = max(6, (console.width - 64) // 2)
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Type", overflow="fold", min_width=len("ExecutionSucceeded"))
    table.add_column("Step", overflow="fold", max_width=room)
    table.add_column("Resource", overflow="fold", max_width=room)
    table.add_column("Started after", justify="right", overflow="fold", min_width=len("99999 ms"))
    table.add_column("Time", no_wrap=True, min_width=len("00:00:00.000"))
    for row in rows:
        kind = row["type"] + (f" ({row['error']})" if row["error"] else "")
        style = "red" if "Failed" in row["type"] or "TimedOut" in row["type"] else None
        table.add_row(
            str(row["id"]),
            kind,
            row["step"],
            row["resource"],
            f"{row['elapsedMs']} ms",
            row["time"][11:23],  # HH:MM:SS.mmm of the ISO time (its date is in the title)
            style=style,
        )
    console.print(table)
    console.print("path: " + " -> ".join(result.path))


def print_result(result: ExecutionResult) -> None:
    console.print(f"execution: {result.arn}")
    console.print(f"status:    {result.status}")
    if result.output is not None:
        console.print("output:    " + json.dumps(result.output))
    if result.error:
        console.print(f"error:     {result.error}: {result.cause}")
    cost = result.cost()
    console.print(
        f"cost:      {cost.states_entered} states, {cost.dynamodb_reads} reads, {cost.dynamodb_writes} writes, "
        f"{cost.lambda_invocations} Lambda, {cost.sqs_messages} SQS"
    )


def print_activity(line: str) -> None:
    console.print(line)


def error(message: object) -> None:
    """One line on standard error, however long, whatever the message holds (newlines, markup)."""
    err_console.print("breakwater: error: " + " ".join(str(message).split()), style="red")
