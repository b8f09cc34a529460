"""A short `make scale` run: a modelled 2,000 orders/s through a healthy spell and an outage, in real time.

Only what holds on any machine is asserted (the counts add up, nothing is lost, nothing is called that the
breaker refused); rates and latencies belong to `make scale`'s report.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from breakwater.scale import plot, report
from breakwater.scale.figures import figures
from breakwater.scale.harness import play
from breakwater.scale.scenarios import LOCAL_RATE, Phase, by_name

SHORT = (Phase("healthy", "healthy", 3.0), Phase("503 outage", "down", 3.0))


def test_a_short_modelled_volume_loses_nothing_and_reports_every_order(tmp_path: Path) -> None:
    volume = replace(by_name(["2000-per-s"])[0], name="smoke-2000-per-s", script=SHORT)

    run = play(volume)
    fig = figures(run)
    plot.timeline(run, fig, tmp_path / "timeline.png")
    page = report.render([fig], elapsed=run.finished_at - run.started_at)

    assert volume.scale == 2000 / LOCAL_RATE
    assert fig.orders == round(6.0 * LOCAL_RATE)
    assert sum(fig.outcomes.values()) + fig.refused_at_start == fig.orders
    assert fig.lost == fig.failed_executions == 0
    assert fig.fail_open_calls == fig.refused_state_calls == 0
    assert fig.failing_calls >= 1 and fig.trips >= 1  # the outage failed calls and tripped the breaker
    assert fig.failing_calls <= fig.floor + fig.payment_concurrency / fig.scale  # at most the bulkhead beyond it
    assert (tmp_path / "timeline.png").stat().st_size > 0
    assert "| smoke-2000-per-s | 2,000 (1) | 200 |" in page


def test_a_call_failing_against_a_healthy_provider_is_reported_with_its_error() -> None:
    from breakwater.executions import ExecutionResult
    from breakwater.scale.figures import call_error
    from breakwater.scale.harness import VolumeRun

    failed = {"type": "TaskFailed", "taskFailedEventDetails": {"resourceType": "lambda", "error": "Sandbox.Timedout"}}
    result = ExecutionResult(arn="arn", name="o-1", status="SUCCEEDED", output={}, events=[failed])
    run = VolumeRun(volume=by_name(["500-per-s"])[0], started_at=0.0, results={"o-1": result})

    assert call_error(run, "o-1") == "Sandbox.Timedout"
    assert call_error(run, "o-2") == "unknown"
