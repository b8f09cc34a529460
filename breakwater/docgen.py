"""Tables in docs/ that exist in code, generated from it: ``make docs`` writes them, a test fails when one is stale.

A page marks a generated table with ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``; everything between
the two is this module's output for NAME.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from breakwater import capacity
from breakwater.quotas import QUOTAS, Limits

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKER = re.compile(r"(<!-- generated: ([a-z0-9-]+) -->\n)(.*?)(<!-- end: \2 -->)", re.S)
LATENCIES = (0.25, 1.0)  # payment call durations the ceilings are shown for
VOLUMES = (100, 500, 2000, 5000, 8000)


def quotas_table() -> str:
    rows = [
        "| quota | service | what it bounds | default | unit | adjustable | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in QUOTAS:
        rows.append(
            f"| `{q.key}` | {q.service} | {q.what} | {q.default:,g} | {q.unit} | {'yes' if q.adjustable else 'no'} | "
            f"[page]({q.source}) |"
        )
    return "\n".join(rows)


def paths_table() -> str:
    rows = [
        "| path | state transitions | breaker reads (RCU) | breaker writes (WCU) | payment calls | SQS messages |",
        "|---|---|---|---|---|---|",
    ]
    for p in capacity.PATHS:
        rows.append(
            f"| {p.name} | {p.transitions} | {p.reads} ({p.reads * capacity.EVENTUALLY_CONSISTENT_READ_UNITS:g}) | "
            f"{p.writes} ({p.writes}) | {p.calls} | {p.messages} |"
        )
    return "\n".join(rows)


def ceilings_table() -> str:
    rows = [
        "| workflow | payment call | PaymentConcurrency | binds first | at orders/s | then | at orders/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for workflow in ("STANDARD", "EXPRESS"):
        for seconds in LATENCIES:
            for bulkhead in (100, 0):
                first, second, *_ = capacity.ceilings(workflow, seconds, bulkhead, Limits())
                rows.append(
                    f"| {workflow} | {seconds * 1000:.0f} ms | {bulkhead or 'none'} | "
                    f"`{first.quota}` ({first.scope}) | {first.orders_per_s:,.0f} | "
                    f"`{second.quota}` ({second.scope}) | {second.orders_per_s:,.0f} |"
                )
    return "\n".join(rows)


def cost_table() -> str:
    standard, express = capacity.dollars_per_million("STANDARD"), capacity.dollars_per_million("EXPRESS")
    rows = [
        f"Healthy orders cost ${standard:,.2f} per million on STANDARD and ${express:,.2f} on EXPRESS "
        "(every service of the path, us-east-1 prices, `breakwater/pricing.py`). A month at a steady rate:",
        "",
        "| orders/s | STANDARD per month | EXPRESS per month |",
        "|---|---|---|",
    ]
    for rate in VOLUMES:
        rows.append(
            f"| {rate:,} | ${capacity.dollars_per_month(rate, 'STANDARD'):,.0f} | "
            f"${capacity.dollars_per_month(rate, 'EXPRESS'):,.0f} |"
        )
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "quotas": quotas_table,
    "paths": paths_table,
    "ceilings": ceilings_table,
    "cost-at-volume": cost_table,
}


def render(text: str) -> str:
    """``text`` with every generated block replaced by its table."""

    def table(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in TABLES:
            raise KeyError(f"no generated table named {name!r}")
        return f"{match.group(1)}{TABLES[name]()}\n{match.group(4)}"

    return MARKER.sub(table, text)


def stale(docs: Path = DOCS) -> list[Path]:
    """The pages whose generated tables differ from what the code says now."""
    return [page for page in sorted(docs.rglob("*.md")) if render(page.read_text()) != page.read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breakwater.docgen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only say which pages are stale (exit 1 if any)")
    args = parser.parse_args(argv)
    pages = stale()
    if args.check:
        for page in pages:
            print(f"{page}: a generated table is stale: run `make docs`", file=sys.stderr)
        return 1 if pages else 0
    for page in pages:
        page.write_text(render(page.read_text()))
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
