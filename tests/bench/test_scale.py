"""A short `make scale` run: a modelled 2,000 orders/s through a healthy spell and an outage, in real time.

Only what holds on any machine is asserted (the counts add up, nothing is lost, nothing is called that the
breaker refused, one trip); rates, latencies and failing calls against the floor belong to `make scale`'s report.

Failing calls beyond the floor depend on the machine's pace, so this test does not bound them. The breaker trips
two states after the failure that reaches the threshold (count it, then write the trip), and every order read
meanwhile finds it CLOSED. Orders arrive here at 10 a second in real time, so what the breaker admits in that
lag is 10 x the engine's time for those two states. Measured on 13 runs beside four busy loops: the lag from
the threshold's failure to the trip was 0.2 to 4.2 s (workflow p50 0.7 to 7.1 s), 1 to 27 failing calls were
decided in it, and the calls beyond the floor ranged 0 to 10 (11 in a CI run). On a quiet machine (3 runs) the lag
was 0.05 to 0.18 s and failing calls equalled the floor (6, 7, 6); `make scale` holds Breakwater within 1.1x of
the floor (`scale.report.FLOOR_TOLERANCE`).
"""

from __future__ import annotations

import json
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
    assert fig.failing_calls >= 1  # the outage failed calls
    assert fig.trips == 1  # one conditional write tripped it; the provider stays down, so no probe closes it
    assert (tmp_path / "timeline.png").stat().st_size > 0
    assert "| smoke-2000-per-s | 2,000 (1) | 200 |" in page


def test_a_call_failing_against_a_healthy_provider_is_reported_with_its_error() -> None:
    from breakwater.executions import ExecutionResult
    from breakwater.scale.figures import call_error
    from breakwater.scale.harness import VolumeRun

    failed = {"type": "TaskFailed", "taskFailedEventDetails": {"resourceType": "lambda", "error": "Sandbox.Timedout"}}
    result = ExecutionResult(arn="arn", name="o-1", status="SUCCEEDED", output={}, events=[failed])
    cause = json.dumps({"errorMessage": "provider timed out after 9.8s", "errorType": "PaymentServiceUnavailable"})
    unavailable = {
        "type": "TaskFailed",
        "taskFailedEventDetails": {"resourceType": "lambda", "error": "PaymentServiceUnavailable", "cause": cause},
    }
    timed_out = ExecutionResult(arn="arn", name="o-3", status="SUCCEEDED", output={}, events=[unavailable])
    run = VolumeRun(volume=by_name(["500-per-s"])[0], started_at=0.0, results={"o-1": result, "o-3": timed_out})

    assert call_error(run, "o-1") == "Sandbox.Timedout"
    assert call_error(run, "o-2") == "unknown"
    assert call_error(run, "o-3") == "PaymentServiceUnavailable: provider timed out after Ns"


def test_a_call_that_met_the_next_phase_is_named_by_that_phase() -> None:
    # On a loaded machine an order submitted while the provider was healthy may make its call after the outage
    # began; the report says so instead of blaming the healthy provider.
    from breakwater.bench.records import CallFact, OrderRecord
    from breakwater.scale.figures import _failed_while_healthy
    from breakwater.scale.harness import VolumeRun

    run = VolumeRun(volume=by_name(["500-per-s"])[0], started_at=0.0)
    run.phases = [(0.0, "healthy", "healthy"), (5.0, "503 outage", "down")]
    late = CallFact("o-1", decided_at=4.9, started_at=5.2, reported_at=5.3, failed=True)
    in_time = CallFact("o-2", decided_at=1.0, started_at=1.1, reported_at=1.2, failed=True)

    named = _failed_while_healthy(run, OrderRecord("o-1", 4.0, 5.3, "queued", "call_failed", call=late), "healthy")
    own = _failed_while_healthy(run, OrderRecord("o-2", 1.0, 1.2, "queued", "call_failed", call=in_time), "healthy")

    assert named == "called in the 503 outage phase"
    assert own == "unknown"  # no execution recorded for it: its own error, unknown here
