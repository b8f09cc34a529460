"""`breakwater status` reads transitions back from the CircuitState metric: changes only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from breakwater.cli import recent_transitions

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class MetricData:
    """Answers GetMetricData with given per-minute maxima (newest first, as CloudWatch does)."""

    def __init__(self, series: dict[str, list[float]], error: bool = False) -> None:
        self.series = series
        self.error = error
        self.queries: list[dict[str, Any]] = []

    def get_metric_data(self, MetricDataQueries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:  # noqa: N803
        if self.error:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")
        self.queries = MetricDataQueries
        results = []
        for query in MetricDataQueries:
            values = self.series[query["Label"]]
            stamps = [T0 + dt.timedelta(minutes=i) for i in range(len(values))]
            results.append({"Label": query["Label"], "Timestamps": stamps[::-1], "Values": values[::-1]})
        return {"MetricDataResults": results}


def test_minutes_like_the_one_before_are_not_transitions():
    # The heartbeat adds a datapoint every minute: CLOSED, CLOSED, OPEN, OPEN, HALF_OPEN, CLOSED, CLOSED.
    cloudwatch = MetricData({"api": [0, 0, 2, 2, 1, 0, 0], "other": [2, 2]})

    found = recent_transitions(cloudwatch, ["api", "other"], "Breakwater")

    assert [(moment.minute, service, state) for moment, service, state in found] == [
        (0, "api", "CLOSED"),
        (0, "other", "OPEN"),
        (2, "api", "OPEN"),
        (4, "api", "HALF_OPEN"),
        (5, "api", "CLOSED"),
    ]
    assert [q["MetricStat"]["Stat"] for q in cloudwatch.queries] == ["Maximum", "Maximum"]


def test_without_permission_to_read_metrics_there_is_nothing_to_show():
    assert recent_transitions(MetricData({}, error=True), ["api"], "Breakwater") == []
    assert recent_transitions(MetricData({}), [], "Breakwater") == []
