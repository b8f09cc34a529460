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

    assert summary["orders"] == 22
    assert (summary["charged"], summary["declined"], summary["queued"], summary["failed"]) == (9, 1, 12, 0)
    assert summary["queuedByReason"] == {"call_failed": 4, "circuit_open": 6, "probe_busy": 2}
    assert summary["transitions"] == {
        "CLOSED->OPEN": 1,
        "OPEN->HALF_OPEN": 2,
        "HALF_OPEN->OPEN": 1,
        "HALF_OPEN->CLOSED": 1,
    }
    assert summary["providerCalls"] == summary["providerCallsObserved"] == 14
    assert summary["callsAvoided"] == 8
    assert summary["paths"]["closed, success, no prior failures"]["states"] == 3
    assert summary["paths"]["open, fast fail"]["states"] == 3
    assert summary["seconds"] < 60


def test_demo_writes_its_picture(demo):
    _, summary, out = demo

    svg, png = (out / "breakwater-demo.svg"), (out / "breakwater-demo.png")
    assert sorted(summary["pictures"]) == sorted([str(png), str(svg)])
    assert "<svg" in svg.read_text()[:2000]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
