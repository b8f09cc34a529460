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


BASELINE = "no-breaker"
WORKFLOW_POLICIES = frozenset({POLICY, "aws-sample"})  # the policies that run on Step Functions


def peers(everyone: list[Figures]) -> list[str]:
    """The other breakers, in the run's order (not the no-breaker baseline)."""
    return list(dict.fromkeys(f.policy for f in everyone if f.policy not in (POLICY, BASELINE)))


def _at_most_peers(figs: list[Figures], everyone: list[Figures]) -> Target:
    parts, met = [], True
    for f in figs:
        beaten = [
            f"{g.policy} {g.wasted}"
            for g in everyone
            if g.scenario == f.scenario and g.policy in peers(everyone) and g.wasted < f.wasted
        ]
        met &= not beaten
        parts.append(f"{f.scenario} {f.wasted}" + (f" (fewer: {', '.join(beaten)})" if beaten else ""))
    detail = "; ".join(parts)
    if not met:
        charged = {p: sum(g.outcomes["charged"] for g in everyone if g.policy == p) for p in (POLICY, *peers(everyone))}
        detail += (
            ". Why: a peer that opens sooner (the aws-sample on a single failure, Powertools-k1 on five in a row in "
            "one environment) fails fewer calls and refuses more; orders charged over all scenarios: "
            + ", ".join(f"{p} {n}" for p, n in charged.items())
        )
    return Target("Failing calls at most every peer's in every scenario", met, detail)


def _healthy_writes(figs: list[Figures]) -> Target:
    healthy = [f for f in figs if f.scenario == "healthy"]
    if not healthy:
        return Target("0 writes per healthy order", False, "the healthy scenario did not run")
    writes = healthy[0].per_order["dynamodb_writes"]
    return Target("0 writes per healthy order", writes == 0, f"healthy: {writes:.2f} DynamoDB writes per order")


def _cheapest_workflow(figs: list[Figures], everyone: list[Figures]) -> Target:
    parts, met = [], True
    for f in figs:
        for kind in ("STANDARD", "EXPRESS"):
            mine = (f.standard if kind == "STANDARD" else f.express).total
            cheaper = [
                f"{g.policy} {(g.standard if kind == 'STANDARD' else g.express).total:.2f}"
                for g in everyone
                if g.scenario == f.scenario
                and g.policy in WORKFLOW_POLICIES - {POLICY}
                and (g.standard if kind == "STANDARD" else g.express).total < mine
            ]
            met &= not cheaper
            if cheaper:
                parts.append(f"{f.scenario} {kind} {mine:.2f} (cheaper: {', '.join(cheaper)})")
    detail = "; ".join(parts) or "cheapest in every scenario on both types"
    if not met:
        detail += ". Why: an order the sample refuses costs it 3 states and one Lambda, and it refuses on every " + (
            "failure; per charged order over all scenarios (STANDARD): "
            + ", ".join(f"{p} {_per_charged(everyone, p):.2f}" for p in sorted(WORKFLOW_POLICIES))
            + " $/M"
        )
    return Target("Cheapest per order of the Step Functions policies, on STANDARD and on EXPRESS", met, detail)


def _per_charged(everyone: list[Figures], policy: str) -> float:
    """STANDARD dollars per million *charged* orders, over every scenario of ``policy``."""
    figs = [f for f in everyone if f.policy == policy]
    dollars = sum(f.standard.total * f.submitted for f in figs)
    charged = sum(f.outcomes["charged"] for f in figs)
    return dollars / charged if charged else float("inf")


def evaluate(everyone: list[Figures]) -> list[Target]:
    """The targets, judged on Breakwater's figures (against its peers where a target says so)."""
    figs = [f for f in everyone if f.policy == POLICY]
    return [
        _waste(figs),
        _at_most_peers(figs, everyone),
        _lost(figs, everyone),
        _healthy_writes(figs),
        _cheapest_workflow(figs, everyone),
        _recovery(figs),
        _budget(figs),
    ]
