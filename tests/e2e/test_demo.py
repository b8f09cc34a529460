"""`breakwater demo` end to end, as `make demo` runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from breakwater.template import PROJECT_ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    summary_file = out / "summary.json"
    result = subprocess.run(
        [sys.executable, "-m", "breakwater", "demo", "--out", str(out), "--summary-json", str(summary_file)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, json.loads(summary_file.read_text()), out


def test_demo_tells_the_whole_story(demo):
    stdout, _, _ = demo

    for chapter in (
        "Healthy traffic is charged",
        "the breaker trips",
        "queued at once",
        "reopens",
        "admits one probe",
        "the breaker closes",
        "Traffic flows again",
    ):
        assert chapter in stdout


def test_demo_summary_figures(demo):
    _, summary, _ = demo
    reasons = summary["queuedByReason"]

    # The demo plays in real time (2 s cooldowns, a 3 s call timeout), so how many orders land in each chapter
    # depends on the machine's speed: on a quiet machine 9 charged, 1 declined, 12 queued (4 call_failed,
    # 6 circuit_open, 2 probe_busy). What holds at any speed is asserted; tests/workflow covers each step exactly,
    # with the clock patched.
    assert summary["orders"] == 22
    assert summary["charged"] + summary["declined"] + summary["queued"] == 22 and summary["failed"] == 0
    assert summary["charged"] > 0 and reasons.get("call_failed", 0) >= 3 and reasons.get("circuit_open", 0) > 0
    assert set(reasons) <= {"call_failed", "circuit_open", "probe_busy"}
    assert summary["callsAvoided"] == reasons.get("circuit_open", 0) + reasons.get("probe_busy", 0)
    assert summary["providerCalls"] == summary["providerCallsObserved"] == 22 - summary["callsAvoided"]
    transitions = summary["transitions"]
    assert transitions["CLOSED->OPEN"] >= 1 and transitions["OPEN->HALF_OPEN"] >= 1
    assert transitions["HALF_OPEN->CLOSED"] == 1  # the story ends with traffic flowing again
    assert summary["paths"]["closed, success, no prior failures"]["states"] == 3
    assert summary["paths"]["open, fast fail"]["states"] == 3


def test_demo_writes_its_picture(demo):
    _, summary, out = demo

    svg, png = (out / "breakwater-demo.svg"), (out / "breakwater-demo.png")
    assert sorted(summary["pictures"]) == sorted([str(png), str(svg)])
    assert "<svg" in svg.read_text()[:2000]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
