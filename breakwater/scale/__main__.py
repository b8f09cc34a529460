"""``python -m breakwater.scale``: model Breakwater at production volume on this machine; results in bench/.

Each volume runs the real template, workflow and functions on the embedded stack with AWS's limits on, scaled
by K so that R orders/s on AWS run here at a rate the local engine sustains. See docs/SCALING.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from breakwater.scale import plot, report
from breakwater.scale.figures import figures
from breakwater.scale.harness import play
from breakwater.scale.scenarios import by_name


def _log(began: float, message: str) -> None:
    print(f"[{time.time() - began:6.1f} s] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breakwater.scale", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench"), help="where results go (default: bench)")
    parser.add_argument("--volume", action="append", dest="volumes", help="run only this volume (repeatable)")
    args = parser.parse_args(argv)
    try:
        volumes = by_name(args.volumes)
    except ValueError as exc:
        parser.error(str(exc))
    began = time.time()
    results = []
    args.out.mkdir(parents=True, exist_ok=True)
    for volume in volumes:
        run = play(volume, on_phase=lambda phase, v=volume: _log(began, f"{v.name}: {phase}"))  # type: ignore[misc]
        fig = figures(run)
        results.append(fig)
        plot.timeline(run, fig, args.out / f"scale-{volume.name}.png")
        _log(
            began,
            f"{volume.name}: {fig.orders} orders, lost {fig.lost}, failing calls {fig.failing_calls} "
            f"(floor {fig.floor}), fail-open {fig.fail_open_calls}, throttles {sum(fig.throttles.values())}",
        )
    elapsed = time.time() - began
    (args.out / "scale.json").write_text(
        json.dumps({"seconds": round(elapsed), "volumes": [f.as_dict() for f in results]}, indent=2) + "\n"
    )
    (args.out / "scale.md").write_text(report.render(results, elapsed))
    _log(began, f"wrote {args.out / 'scale.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
