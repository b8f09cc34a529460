"""The package's layers, lowest first: a module imports its own layer's modules and lower layers', never a higher one.

``tests/unit/test_layers.py`` reads every module's imports (lazy ones inside functions included) and fails on an
import of a higher layer, on an import cycle, and on a module that no layer names. An entry names a module or a
package (all its modules); the longest entry that names a module decides its layer.

- record: the two records (standard library only: the replay, transitions and checkout functions carry them) and
  the errors every layer raises.
- domain: what a Breakwater stack is, wherever it runs: its template and workflow, the breakers and executions
  read through boto3, AWS's quotas and prices, the model on paper.
- local: the local stack (moto and its patches, the Lambda runtime, the fake provider, ``local up``'s server).
- front ends: what a person or a benchmark runs on top: the console, the demo, the soak, the benchmark, the scale
  model.
- cli: the ``breakwater`` command, a leaf: only the entry point (and the docs, for its parser) imports it.
- entry: the entry point (Ctrl-C honoured before anything heavy is imported).
- docs: the generated tables of the README and docs/ and their link check (``make docs``, ``make test``): they read
  every layer, the CLI's parser included (its command table), and nothing imports them.
"""

from __future__ import annotations

ROOT = "breakwater"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("record", (ROOT, "breakwater.breaker_record", "breakwater.order_record", "breakwater.errors")),
    (
        "domain",
        (
            "breakwater.arguments",
            "breakwater.asl",
            "breakwater.aws",
            "breakwater.breaker",
            "breakwater.budget",
            "breakwater.capacity",
            "breakwater.executions",
            "breakwater.express",
            "breakwater.graph",
            "breakwater.layers",
            "breakwater.loopback",
            "breakwater.orders",
            "breakwater.pricing",
            "breakwater.quotas",
            "breakwater.regions",
            "breakwater.status_view",
            "breakwater.template",
            "breakwater.transition_history",
        ),
    ),
    ("local", ("breakwater.local",)),
    (
        "front ends",
        (
            "breakwater.bench",
            "breakwater.console",
            "breakwater.demo",
            "breakwater.scale",
            "breakwater.soak",
        ),
    ),
    ("cli", ("breakwater.cli",)),
    ("entry", ("breakwater.entry", "breakwater.__main__")),
    ("docs", ("breakwater.docgen", "breakwater.doclinks")),
)


def _names(module: str, entry: str) -> bool:
    """Whether ``entry`` names ``module``: itself, or a module of the package it names (the root only itself)."""
    return module == entry or (entry != ROOT and module.startswith(entry + "."))


def layer_of(module: str) -> int | None:
    """The index in :data:`LAYERS` of a module's layer (``breakwater.local.stack`` -> 2), or None if none names it."""
    best: tuple[int, int] | None = None  # (length of the entry, layer)
    for index, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            if _names(module, entry) and (best is None or len(entry) > best[0]):
                best = (len(entry), index)
    return None if best is None else best[1]
