"""The demo picture (issue 10, item 15): ends that add up, faded untaken paths, legends, order markers."""

from __future__ import annotations

from breakwater import demo, graph
from breakwater.template import load_definition


def test_a_task_that_ends_executions_says_how_many():
    assert graph.box_lines("Call payment provider", "Task", 9, ended=7)[-1] == "\N{MULTIPLICATION SIGN}9, 7 ended here"
    assert graph.box_lines("Report charge", "Succeed", 1, ended=1)[-1] == "\N{MULTIPLICATION SIGN}1"
    assert graph.box_lines("Call payment provider", "Task", 0, ended=0) == ["Call payment provider"]


def test_the_ends_of_the_demo_paths_add_up_to_the_orders():
    paths = [
        ["Read breaker state", "Is the order valid and the circuit closed?", "Call payment provider"],
        ["Read breaker state", "Is the order valid and the circuit closed?", "Queue order for later"],
        ["Read breaker state", "Is the order valid and the circuit closed?", "Queue order for later"],
    ]
    counts, _ = graph.counts_from_paths(paths)
    ends = {"Call payment provider": 1, "Queue order for later": 2}

    labels = {name: graph.box_lines(name, "Task", counts[name], ends.get(name, 0))[-1] for name in ends}

    assert labels == {
        "Call payment provider": "\N{MULTIPLICATION SIGN}1, 1 ended here",
        "Queue order for later": "\N{MULTIPLICATION SIGN}2, 2 ended here",
    }


def test_the_picture_has_an_edge_legend_and_order_markers(tmp_path, monkeypatch):
    import matplotlib.figure

    saved: list[matplotlib.figure.Figure] = []
    original = matplotlib.figure.Figure.savefig

    def keep(self: matplotlib.figure.Figure, *args: object, **kwargs: object) -> None:
        saved.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    path = ["Read breaker state", "Is the order valid and the circuit closed?", "Call payment provider"]
    states, transitions = graph.counts_from_paths([path])

    graph.render(
        load_definition(),
        tmp_path / "run.svg",
        states,
        transitions,
        timeline=[(0.0, "CLOSED"), (2.0, "OPEN")],
        end_counts={"Call payment provider": 1},
        markers=[(0.5, "charged"), (2.5, "queued")],
    )

    graph_axes, band = saved[0].axes
    legend_texts = [t.get_text() for t in graph_axes.get_legend().get_texts()]
    band_texts = [t.get_text() for t in band.get_legend().get_texts()]
    dots = [tuple(map(tuple, c.get_offsets())) for c in band.collections if len(c.get_offsets())]
    assert "error caught (Catch)" in legend_texts
    assert "transition not taken" in legend_texts
    assert {"charged", "queued"} <= set(band_texts)
    assert ((0.5, 0.5),) in dots
    assert ((2.5, 0.5),) in dots


def test_no_caption_says_the_provider_recovers_while_it_is_slow():
    for step in demo.STORY:
        if step.provider["mode"] != "healthy":
            assert "recovers" not in step.title, step.title
