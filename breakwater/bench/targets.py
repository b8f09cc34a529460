"""The benchmark's targets for Breakwater, judged from the figures: met or not, and why."""

from __future__ import annotations

from dataclasses import dataclass

from breakwater.bench.metrics import Figures, merge_paths, within_budget

WASTE_LIMIT = 1.1  # wasted calls may be at most this multiple of the floor
POLICY = "breakwater"


@dataclass(frozen=True)
class Target:
    name: str
    met: bool
    detail: str


def _waste(figs: list[Figures]) -> Target:
    parts, met = [], True
    for f in figs:
        ok = f.wasted <= WASTE_LIMIT * f.floor.total
        met &= ok
        parts.append(f"{f.scenario} {f.wasted}/{f.floor.total}{'' if ok else ' (over)'}")
    return Target(f"Failing calls at most {WASTE_LIMIT}x the floor in every scenario", met, ", ".join(parts))


def _lost(figs: list[Figures], everyone: list[Figures]) -> Target:
    lost = {f.scenario: f.lost for f in figs if f.lost}
    others = sum(f.lost for f in everyone if f.policy != POLICY)
    detail = "no order lost in any scenario" if not lost else f"lost: {lost}"
    return Target("Zero orders lost", not lost, f"{detail} (the other policies lost {others})")


def _recovery(figs: list[Figures]) -> Target:
    parts, met = [], True
    for f in figs:
        if f.recovery_bound_s is None:
            continue
        if f.recovery_s is None:
            met = False
            parts.append(f"{f.scenario}: never closed (bound {f.recovery_bound_s:.2f} s)")
            continue
        ok = f.recovery_s <= f.recovery_bound_s
        met &= ok
        parts.append(f"{f.scenario} {f.recovery_s:.2f} s <= {f.recovery_bound_s:.2f} s" if ok else f"{f.scenario} over")
    if not parts:
        return Target("Recovery within one cooldown plus one probe", False, "no scenario had a recovery to measure")
    return Target("Recovery within one cooldown plus one probe", met, "; ".join(parts))


def _budget(figs: list[Figures]) -> Target:
    merged = merge_paths(figs)
    checked = {label: within_budget(label, entry) for label, entry in merged.items()}
    over = [
        f"{label}: {merged[label]['over_budget']} of {merged[label]['executions']} executions over "
        f"(worst {merged[label]['states_entered']} states, {merged[label]['dynamodb_writes']} writes; "
        f"{merged[label]['window_race']} lost the race to start a failure window)"
        for label, ok in checked.items()
        if ok is False
    ]
    rows = sum(1 for ok in checked.values() if ok is not None)
    unbudgeted = sorted(label for label, ok in checked.items() if ok is None)
    detail = f"{rows} budgeted paths observed, {len(over)} over budget{': ' + '; '.join(over) if over else ''}"
    if unbudgeted:
        detail += f"; paths DESIGN.md gives no budget (reported, not judged): {', '.join(unbudgeted)}"
    return Target("Cost per path within DESIGN.md's budget", not over and rows > 0, detail)


def evaluate(everyone: list[Figures]) -> list[Target]:
    """The four targets, judged on Breakwater's figures."""
    figs = [f for f in everyone if f.policy == POLICY]
    return [_waste(figs), _lost(figs, everyone), _recovery(figs), _budget(figs)]
