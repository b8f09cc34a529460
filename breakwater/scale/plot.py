"""One picture per volume: orders by outcome over time, the provider's phases behind, the breaker's state beneath."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from breakwater.breaker_record import COLOUR, BreakerState
from breakwater.scale.figures import Figures
from breakwater.scale.harness import VolumeRun

BIN_SECONDS = 1.0
DPI = 90
# Outcomes in the order they stack, with their colours.
SERIES = (
    ("charged", "#3f8f4f"),
    ("queued (call_failed)", "#b02418"),
    ("queued (circuit_open)", "#e3a33b"),
    ("queued (probe_busy)", "#f0d060"),
    ("queued (concurrency_limit)", "#7b4fb5"),
    ("queued (breaker_busy)", "#4a86c5"),
    ("other", "#999999"),
)
PHASE_SHADES = {"down": "#f6dcdc", "hang": "#f3e6d0"}


def _outcome(run: VolumeRun, order_id: str) -> str:
    result = run.results.get(order_id)
    if result is None:
        return "other"
    output = result.output if isinstance(result.output, dict) else {}
    status = output.get("status")
    label = "charged" if status == "charged" else f"queued ({output.get('reason')})" if status == "queued" else "other"
    return label if label in dict(SERIES) else "other"


def timeline(run: VolumeRun, fig: Figures, path: Path) -> None:
    end = run.finished_at - run.started_at
    bins = [i * BIN_SECONDS for i in range(int(end / BIN_SECONDS) + 2)]
    per_series = {name: [] for name, _ in SERIES}  # type: dict[str, list[float]]
    for entry in run.submitted:
        per_series[_outcome(run, entry.order_id)].append(entry.at - run.started_at)
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 4.6), sharex=True, gridspec_kw={"height_ratios": [5, 1]}, dpi=DPI
    )
    for at, _, mode in run.phases:
        start = at - run.started_at
        stop = next((a - run.started_at for a, _, _ in run.phases if a > at), end)
        if mode in PHASE_SHADES:
            top.axvspan(start, stop, color=PHASE_SHADES[mode], zorder=0)
    names = [name for name, _ in SERIES if per_series[name]]
    top.hist(
        [per_series[n] for n in names], bins=bins, stacked=True, color=[dict(SERIES)[n] for n in names], label=names
    )
    top.set_ylabel("orders / s (here)", fontsize=8)
    top.legend(fontsize=7, loc="upper right", ncol=2)
    top.set_title(
        f"{fig.name}: {fig.orders} orders (x{fig.scale:g} = {fig.rate * fig.keys:,.0f}/s modelled), lost {fig.lost}, "
        f"failing calls {fig.failing_calls} (floor {fig.floor})",
        loc="left",
        fontsize=10,
    )
    spells = _spells(run, end)
    for start, stop, state in spells:
        bottom.axvspan(start, stop, color=COLOUR.get(state, "#cccccc"))
    bottom.set_yticks([])
    bottom.set_xlabel("seconds", fontsize=8)
    bottom.legend(
        handles=[
            Patch(color=COLOUR[s.value], label=s.value) for s in BreakerState if s.value in {x for *_, x in spells}
        ],
        fontsize=7,
        loc="upper right",
        ncol=3,
    )
    bottom.set_xlim(0, end)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def _spells(run: VolumeRun, end: float) -> list[tuple[float, float, str]]:
    """The first breaker's (start, end, state) spells, from the transitions its executions wrote."""
    key = run.volume.service(0)
    moves = sorted(
        (moment - run.started_at, after.value if hasattr(after, "value") else str(after))
        for result in [*run.results.values(), *run.replays]
        if isinstance(result.output, dict) and result.output.get("serviceName", key) == key
        for moment, _, after in result.transitions()
    )
    spells, at, state = [], 0.0, BreakerState.CLOSED.value
    for moment, after in moves:
        spells.append((at, moment, state))
        at, state = moment, after
    spells.append((at, end, state))
    return [(a, b, s) for a, b, s in spells if b > a]
