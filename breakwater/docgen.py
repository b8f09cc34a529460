"""Tables in README.md and docs/ that exist in code, generated from it: ``make docs`` writes them, a test fails when
one is stale.

A page marks a generated table with ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``; everything between
the two is this module's output for NAME.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from breakwater import budget, capacity, template
from breakwater.quotas import QUOTAS, Limits

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
COMPAT = ROOT / "breakwater" / "local" / "compat"
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


def path_costs_table() -> str:
    """The main paths an order takes, with what each uses and costs (the README's "how it works")."""
    rows = [
        "| path | states entered | breaker reads / writes | payment calls | SQS messages | $ per million, STANDARD "
        "| $ per million, EXPRESS |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in capacity.PATHS[:4]:
        rows.append(
            f"| {p.name} | {p.transitions} | {p.reads} / {p.writes} | {p.calls} | {p.messages} | "
            f"{capacity.dollars_per_million('STANDARD', p):,.2f} | {capacity.dollars_per_million('EXPRESS', p):,.2f} |"
        )
    return "\n".join(rows)


def cost_budget_table() -> str:
    """The cost budget per path, from its one definition (``breakwater.budget``)."""
    rows = [
        "| path | states entered (at most) | DynamoDB reads (at most) | DynamoDB writes | Lambda invocations "
        "| SQS messages | covers |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in budget.ROWS:
        cost = row.cost
        rows.append(
            f"| {row.path} | {cost.states_entered} | {cost.dynamodb_reads} | {cost.dynamodb_writes} | "
            f"{cost.lambda_invocations} | {cost.sqs_messages} | {row.note} |"
        )
    return "\n".join(rows)


def _bounds(spec: dict[str, object]) -> str:
    """What CloudFormation accepts for a parameter: its allowed values, its range, or its pattern."""
    if spec.get("AllowedValues"):
        return ", ".join(f"`{value}`" for value in spec["AllowedValues"])  # type: ignore[attr-defined]
    low, high = spec.get("MinValue"), spec.get("MaxValue")
    if low is not None or high is not None:
        return f"{'' if low is None else low} to {'' if high is None else high}"
    return f"`{spec['AllowedPattern']}`" if spec.get("AllowedPattern") else ""


def parameters_table() -> str:
    """Every template parameter with its default, what it accepts and its description, from ``template.yaml``."""
    rows = ["| parameter | default | accepts | what it sets |", "|---|---|---|---|"]
    for name, spec in (template.load_template().get("Parameters") or {}).items():
        default = spec.get("Default")
        shown = "(none)" if default is None else f"`{default}`" if str(default) else "(empty)"
        description = " ".join(str(spec.get("Description", "")).split()).replace("|", "\\|")
        rows.append(f"| `{name}` | {shown} | {_bounds(spec)} | {description} |")
    return "\n".join(rows)


def _markdown(text: str) -> str:
    """reStructuredText's inline literals as Markdown's, one line, safe in a table cell."""
    return " ".join(text.split()).replace("``", "`").replace("|", "\\|")


def compat_patches() -> Iterator[tuple[str, str]]:
    """Each compatibility patch's name and what it fixes: the first paragraph of its module's docstring.

    The module's docstring starts ``Patch ``NAME``: what moto did, and what AWS does``; that paragraph is the
    one description of the patch (``compat.MODULES`` gives the order).
    """
    from breakwater.local import compat

    for module in compat.MODULES:
        docstring = ast.get_docstring(ast.parse((COMPAT / f"{module}.py").read_text())) or ""
        first = docstring.split("\n\n")[0]
        match = re.match(r"Patch ``([a-z0-9_]+)``: (.*)", first, re.S)
        if match is None:
            raise ValueError(f"breakwater/local/compat/{module}.py: its docstring must start 'Patch ``NAME``: '")
        if match.group(1) not in compat.PATCHES:
            raise ValueError(f"breakwater/local/compat/{module}.py: its docstring names no patch: {match.group(1)}")
        yield match.group(1), _markdown(match.group(2))


def compat_table() -> str:
    rows = ["| patch | what moto did, and what AWS does |", "|---|---|"]
    rows += [f"| `{name}` | {why} |" for name, why in compat_patches()]
    return "\n".join(rows)


def _commands() -> Iterator[tuple[str, argparse.ArgumentParser, str]]:
    """Every leaf command of ``breakwater``: its words, its parser and its help, in the parser's order."""
    from breakwater.cli.parser import build_parser

    def walk(parser: argparse.ArgumentParser, words: str) -> Iterator[tuple[str, argparse.ArgumentParser, str]]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
                for name, sub in action.choices.items():
                    if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
                        yield from walk(sub, f"{words} {name}")
                    else:
                        yield f"{words} {name}", sub, helps.get(name, "")

    yield from walk(build_parser(), "breakwater")


def _aws_option(action: argparse.Action, parser: argparse.ArgumentParser) -> bool:
    return any(group.title == "AWS options" and action in group._group_actions for group in parser._action_groups)


def _own_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction) and not _aws_option(a, parser)]


def _usage(words: str, parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(prog=words, width=1_000)
    formatter.add_usage(None, _own_actions(parser), [], prefix="")
    usage = formatter.format_help().strip()
    if any(_aws_option(a, parser) for a in parser._actions):
        usage += " [AWS options]"
    return usage


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    return text % {**vars(action), "prog": ""} if "%(" in text else text


def cli_commands_table() -> str:
    rows = ["| command | what it does |", "|---|---|"]
    for words, parser, text in _commands():
        rows.append(f"| `{_markdown(_usage(words, parser))}` | {_markdown(text)} |")
    return "\n".join(rows)


def _argument(action: argparse.Action) -> str:
    if not action.option_strings:
        return str(action.metavar or action.dest)
    name = ", ".join(action.option_strings)
    if action.nargs == 0:
        return name
    if action.choices is not None and action.metavar is None:
        return f"{name} {{{','.join(str(c) for c in action.choices)}}}"
    return f"{name} {action.metavar or action.dest.upper()}"


def cli_options_table() -> str:
    rows = ["| command | argument | what it means |", "|---|---|---|"]
    aws: dict[str, argparse.Action] = {}
    for words, parser, _ in _commands():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if _aws_option(action, parser):
                aws.setdefault(action.dest, action)
                continue
            command = words.removeprefix("breakwater ")
            rows.append(f"| `{command}` | `{_markdown(_argument(action))}` | {_markdown(_help(action))} |")
    rows += [f"| [AWS options] | `{_markdown(_argument(a))}` | {_markdown(_help(a))} |" for a in aws.values()]
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "quotas": quotas_table,
    "paths": paths_table,
    "ceilings": ceilings_table,
    "cost-at-volume": cost_table,
    "path-costs": path_costs_table,
    "cost-budget": cost_budget_table,
    "template-parameters": parameters_table,
    "compat-patches": compat_table,
    "cli-commands": cli_commands_table,
    "cli-options": cli_options_table,
}


def render(text: str) -> str:
    """``text`` with every generated block replaced by its table."""

    def table(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in TABLES:
            raise KeyError(f"no generated table named {name!r}")
        return f"{match.group(1)}{TABLES[name]()}\n{match.group(4)}"

    return MARKER.sub(table, text)


def pages(folder: Path = DOCS, readme: Path | None = README) -> list[Path]:
    """The README and every Markdown page under ``folder``."""
    return ([readme] if readme is not None else []) + sorted(folder.rglob("*.md"))


def stale(candidates: Iterable[Path] | None = None) -> list[Path]:
    """The pages whose generated tables differ from what the code says now."""
    chosen = pages() if candidates is None else candidates
    return [page for page in chosen if render(page.read_text()) != page.read_text()]


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
