"""The picture commands: ``graph`` (the state machine, an execution's path highlighted) and ``demo``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from breakwater.cli import render
from breakwater.cli.options import UsageError, target_from
from breakwater.executions import describe

DEFAULT_GRAPH = "breakwater-graph.svg"
DEFAULT_DEMO_OUT = "demo-output"
MERMAID_SUFFIXES = (".mmd", ".mermaid")


def cmd_graph(args: argparse.Namespace) -> int:
    from breakwater import graph
    from breakwater.template import load_definition

    out = Path(args.output) if args.output else None
    kind = args.format or ("mermaid" if out is not None and out.suffix.lower() in MERMAID_SUFFIXES else "picture")
    if kind == "picture":
        out = out or Path(DEFAULT_GRAPH)
        if out.suffix.lower() not in graph.PICTURE_FORMATS:
            raise UsageError(
                f"-o {out}: a picture is {' or '.join(graph.PICTURE_FORMATS)}; for Mermaid text use"
                f" --format mermaid (or a {' or '.join(MERMAID_SUFFIXES)} file)"
            )
    definition = load_definition()
    paths: list[list[str]] = []
    if args.execution_arn:
        sfn = target_from(args).client("stepfunctions")
        paths.append(describe(sfn, args.execution_arn).path)
    state_counts, edge_counts = graph.counts_from_paths(paths)
    if kind == "mermaid":
        text = graph.to_mermaid(definition, state_counts or None, highlight=state_counts)
        if out is None:
            print(text)
        else:
            out.write_text(text if text.endswith("\n") else text + "\n")
            render.err_console.print(f"wrote {out}")
        return 0
    assert out is not None
    graph.render(
        definition,
        out,
        state_counts=state_counts,
        edge_counts=edge_counts,
        title=args.execution_arn.rsplit(":", 1)[-1] if args.execution_arn else "Breakwater workflow",
    )
    render.console.print(f"wrote {out}")
    if paths:
        render.console.print("path: " + " -> ".join(paths[0]))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from breakwater.demo import run_demo

    if args.story == "rate" and args.out is not None:
        raise UsageError(
            "--out: the rate story draws no picture (it prints its table); keep its figures with --summary-json FILE"
        )
    # The demo prints its own scripted lines, styled with rich markup.
    demo_console = Console(highlight=False, soft_wrap=True, emoji=False, width=render.console.width)
    if args.story == "rate":
        from breakwater.demo import run_rate_demo

        summary = run_rate_demo(console=demo_console)
    else:
        summary = run_demo(out_dir=Path(args.out or DEFAULT_DEMO_OUT), console=demo_console)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=2))
    return 0
