"""``python -m breakwater.bench``: play every scenario against every policy, write the results."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from breakwater.bench import plot, report
from breakwater.bench.aws_sample import AwsSample
from breakwater.bench.harness import ENGINE_RUNS, play, throughput
from breakwater.bench.metrics import Figures, figures
from breakwater.bench.policies import NoBreaker, Policy, Reference
from breakwater.bench.powertools import ENVIRONMENT_COUNTS, Powertools
from breakwater.bench.records import PolicyRun
from breakwater.bench.scenarios import Scenario, by_name
from breakwater.bench.settings import BreakerSettings
from breakwater.bench.targets import evaluate
from breakwater.bench.workflow import Breakwater
from breakwater.local.stack import EmbeddedStack


def _powertools(environments: int) -> Callable[[BreakerSettings], Policy]:
    return lambda settings: Powertools(settings, environments)


# Every policy, in the report's order: the baseline, the seed, the peers a team would pick instead, Breakwater.
POLICIES: tuple[Callable[[BreakerSettings], Policy], ...] = (
    NoBreaker,
    Reference,
    *(_powertools(k) for k in ENVIRONMENT_COUNTS),
    AwsSample,
    Breakwater,
)


def _log(began: float, message: str) -> None:
    print(f"[{time.time() - began:6.1f} s] {message}", file=sys.stderr, flush=True)


def _play_all(
    env: EmbeddedStack, scenarios: tuple[Scenario, ...], settings: BreakerSettings, began: float
) -> list[PolicyRun]:
    runs = []
    for scenario in scenarios:
        for make in POLICIES:
            policy = make(settings)
            try:
                run = play(env, policy, scenario, settings)
            finally:
                policy.close()
            runs.append(run)
            fig = figures(run, settings)
            _log(
                began,
                f"{scenario.name:<8} {policy.name:<14} {run.submitted} orders, {fig.provider_calls} provider calls, "
                f"{fig.wasted} failing (floor {fig.floor.total}), lost {fig.lost}",
            )
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breakwater.bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench"), help="where results go (default: bench)")
    parser.add_argument("--scenario", action="append", dest="scenarios", help="run only this scenario (repeatable)")
    parser.add_argument("--no-throughput", action="store_true", help="skip the local-engine measurement")
    parser.add_argument("--engine-only", action="store_true", help="measure the local engine only, write nothing")
    args = parser.parse_args(argv)
    try:
        scenarios = by_name(args.scenarios)
    except ValueError as exc:
        parser.error(str(exc))
    began = time.time()
    settings = BreakerSettings()
    with EmbeddedStack() as env:
        rates = []
        if not args.no_throughput:
            for workers, orders in ENGINE_RUNS:
                rates.append(throughput(env, settings, orders, workers))
                _log(
                    began,
                    f"local engine, {workers} concurrent: {rates[-1]['executionsPerSecond']} executions/s, "
                    f"{rates[-1]['msPerState']} ms per state",
                )
        if args.engine_only:
            return 0
        runs = _play_all(env, scenarios, settings, began)
    figs = [figures(run, settings) for run in runs]
    pictures = _pictures(scenarios, runs, figs, settings, args.out)
    results = report.Results(
        settings, scenarios, runs, figs, rates, evaluate(figs), time.time() - began, [str(p) for p in pictures]
    )
    md, js = report.write(results, args.out)
    print("\n".join(report.headline(figs)))
    for target in results.targets:
        print(f"{'met    ' if target.met else 'NOT MET'}  {target.name}: {target.detail}")
    _log(began, f"wrote {md}, {js} and {len(pictures)} pictures")
    return 0


def _pictures(
    scenarios: tuple[Scenario, ...], runs: list[PolicyRun], figs: list[Figures], settings: BreakerSettings, out: Path
) -> list[Path]:
    timeout = settings.call_timeout_s - 0.25
    pictures = []
    for scenario in scenarios:
        pairs = [(r, f) for r, f in zip(runs, figs, strict=True) if r.scenario == scenario.name]
        path = out / f"{scenario.name}.png"
        pictures.append(plot.draw(scenario, [r for r, _ in pairs], [f for _, f in pairs], path, timeout))
    return pictures


if __name__ == "__main__":
    sys.exit(main())
