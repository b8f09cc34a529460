"""One picture per scenario: provider calls over time for each policy, the breaker's state beneath."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from breakwater.bench.floor import provider_failing
from breakwater.bench.metrics import Figures
from breakwater.bench.records import PolicyRun
from breakwater.bench.scenarios import Scenario
from breakwater.breaker_record import COLOUR, UNREADABLE, BreakerState

BIN_SECONDS = 0.25
PICTURE_DPI = 90  # seven policies per picture: readable, and quick to write
OK_COLOUR, FAIL_COLOUR, FAILING_SPAN = "#5b8fd6", "#b02418", "#f6dcdc"
MIN_BAND_SECONDS = 0.08  # half-open spells can last milliseconds: keep them visible


def state_segments(run: PolicyRun, end: float) -> list[tuple[float, float, str]]:
    """(start, end, state) spells of the breaker, in seconds from the run's start."""
    spells: list[tuple[float, float, str]] = []
    at, state = 0.0, BreakerState.CLOSED.value
    for moment, _, after in run.transitions:
        t = moment - run.started_at
        spells.append((at, t, state))
        at, state = t, after
    spells.append((at, end, state))
    return [(a, b, s) for a, b, s in spells if b > a or s == BreakerState.HALF_OPEN]


def _bins(end: float) -> list[float]:
    return [i * BIN_SECONDS for i in range(int(end / BIN_SECONDS) + 2)]


def calls_scale(runs: list[PolicyRun], end: float) -> int:
    """The y-axis top shared by every policy's calls chart of a scenario: the largest count in one bin, so the
    charts compare at a glance (each had its own scale once, and a burst of 3 looked like one of 50)."""
    top = 1
    for run in runs:
        counts = [0] * len(_bins(end))
        for call in run.provider_calls:
            index = int((call.at - run.started_at) / BIN_SECONDS)
            if 0 <= index < len(counts):
                counts[index] += 1
        top = max(top, *counts)
    return top


def _calls_axis(ax: plt.Axes, run: PolicyRun, fig: Figures, end: float, timeout: float, top: int) -> None:
    bins = _bins(end)
    ok = [c.at - run.started_at for c in run.provider_calls if not provider_failing(c, timeout)]
    bad = [c.at - run.started_at for c in run.provider_calls if provider_failing(c, timeout)]
    for start, stop in run.failing_periods():
        ax.axvspan(start - run.started_at, stop - run.started_at, color=FAILING_SPAN, zorder=0)
    ax.hist([ok, bad], bins=bins, stacked=True, color=[OK_COLOUR, FAIL_COLOUR], zorder=2)
    if run.recovered_at is not None:
        ax.axvline(run.recovered_at - run.started_at, color="#333333", linestyle="--", linewidth=1, zorder=3)
    ratio = fig.ratio
    ratio_text = "n/a" if ratio is None else f"{ratio:.2f}x"
    ax.set_title(
        f"{run.policy}: {len(run.provider_calls)} provider calls, {fig.wasted} failing "
        f"(floor {fig.floor.total}, {ratio_text})",
        loc="left",
        fontsize=10,
    )
    ax.set_ylabel("calls / 0.25 s", fontsize=8)
    ax.set_ylim(0, top * 1.05)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=8)
    ax.set_xlim(0, end)


def _band_axis(ax: plt.Axes, run: PolicyRun, has_breaker: bool, end: float) -> None:
    ax.set_yticks([])
    ax.set_xlim(0, end)
    ax.tick_params(labelsize=8)
    if not has_breaker:
        ax.axvspan(0, end, color="#d9d9d9")
        ax.text(end / 2, 0.5, "no breaker", ha="center", va="center", fontsize=8, transform=ax.transData)
        ax.set_ylim(0, 1)
        return
    for start, stop, state in state_segments(run, end):
        width = max(stop - start, MIN_BAND_SECONDS if state == BreakerState.HALF_OPEN else 0.0)
        colour = COLOUR.get(state, COLOUR[UNREADABLE])
        ax.axvspan(start, start + width, color=colour, zorder=2 if state == BreakerState.HALF_OPEN else 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("state", fontsize=8, rotation=0, ha="right", va="center")


def draw(scenario: Scenario, runs: list[PolicyRun], figs: list[Figures], path: Path, timeout: float) -> Path:
    """Write ``path``: one pair of axes (calls, state band) per policy."""
    end = max(r.finished_at - r.started_at for r in runs) + 0.25
    heights = []
    for _ in runs:
        heights += [3.0, 0.45]
    figure, axes = plt.subplots(
        len(heights), 1, figsize=(11, 2.1 * len(runs) + 1.2), sharex=True, gridspec_kw={"height_ratios": heights}
    )
    top = calls_scale(runs, end)
    for i, (run, fig) in enumerate(zip(runs, figs, strict=True)):
        _calls_axis(axes[2 * i], run, fig, end, timeout, top)
        _band_axis(axes[2 * i + 1], run, run.policy != "no-breaker", end)
    axes[-1].set_xlabel("seconds since the scenario started", fontsize=9)
    legend = [
        Patch(color=OK_COLOUR, label="calls answered in time"),
        Patch(color=FAIL_COLOUR, label="failing calls (5xx, 429, timeout)"),
        Patch(color=FAILING_SPAN, label="provider failing"),
        *(Patch(color=COLOUR[s], label=s) for s in (BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN)),
    ]
    figure.legend(handles=legend, loc="upper center", ncol=6, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.965))
    figure.suptitle(f"{scenario.name}: {scenario.title}  (dashed line: provider recovers)", fontsize=11, y=0.995)
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=PICTURE_DPI)
    plt.close(figure)
    return path
