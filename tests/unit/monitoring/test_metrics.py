"""Metric data builders and batching."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import MagicMock

from keel.monitoring.metrics import datum, drift_data, pipeline_data, put_metric_data
from keel.monitoring.names import Metric
from keel.monitoring.summary import CaptureSummary, FeatureView, ReportView

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def summary(rows: int, sufficient: bool) -> CaptureSummary:
    return CaptureSummary(
        capture="c",
        baseline="b",
        files=1,
        records=rows,
        rows=rows,
        unparseable_records=1,
        rejection_reasons={"not-json": 1},
        min_rows=100,
        sufficient=sufficient,
        dataset_drift=None,
    )


REPORT = ReportView(
    features=[
        FeatureView(name="alcohol", drifted=True, psi=0.5, ks_statistic=0.3, ks_p_value=1e-9),
        FeatureView(name="ph", drifted=False, psi=None, ks_statistic=None, ks_p_value=None),
    ],
    drifted_features=["alcohol"],
    drifted_share=0.5,
    dataset_drift=True,
)


def names(data: list[dict]) -> list[tuple[str, tuple[str, ...]]]:  # type: ignore[type-arg]
    return [(d["MetricName"], tuple(x["Value"] for x in d["Dimensions"])) for d in data]


def test_a_sufficient_check_publishes_its_verdict_per_feature_and_per_dataset() -> None:
    data = drift_data(REPORT, summary(500, True), environment="dev", timestamp=NOW)
    assert names(data) == [
        ("DriftChecks", ("dev",)),
        ("CaptureRows", ("dev",)),
        ("CaptureRecordsUnparseable", ("dev",)),
        ("FeaturePsi", ("dev", "alcohol")),
        ("FeatureKsStatistic", ("dev", "alcohol")),
        ("FeatureKsPValue", ("dev", "alcohol")),
        ("DriftedFeatureShare", ("dev",)),
        ("DriftedFeatures", ("dev",)),
    ]
    assert data[3]["Dimensions"] == [
        {"Name": "Environment", "Value": "dev"},
        {"Name": "Feature", "Value": "alcohol"},
    ]


def test_an_insufficient_check_publishes_no_verdict() -> None:
    data = drift_data(REPORT, summary(10, False), environment="dev", timestamp=NOW)
    assert [d["MetricName"] for d in data] == ["DriftChecks", "CaptureRows", "CaptureRecordsUnparseable"]


def test_pipeline_data() -> None:
    started = pipeline_data(environment="dev", timestamp=NOW, retrain_reason="drift")
    assert names(started) == [("Retrains", ("dev",)), ("Retrains", ("dev", "drift"))]
    ended = pipeline_data(
        environment="dev",
        timestamp=NOW,
        status="Failed",
        validation={"success": False, "failures": [], "errors": [], "quarantined_rows": 3},
    )
    assert names(ended) == [
        ("PipelineExecutions", ("dev", "Failed")),
        ("ValidationFailures", ("dev",)),
        ("QuarantinedRows", ("dev",)),
    ]
    assert [d["Value"] for d in ended] == [1.0, 1.0, 3.0]
    passed = pipeline_data(environment="dev", timestamp=NOW, validation={"success": True, "failures": []})
    assert passed[0]["Value"] == 0.0


def test_put_metric_data_batches() -> None:
    cloudwatch = MagicMock()
    data = [datum(Metric.DRIFT_CHECKS, 1, environment="dev", timestamp=NOW)] * 45
    assert put_metric_data(cloudwatch, data) == 45
    assert [len(c.kwargs["MetricData"]) for c in cloudwatch.put_metric_data.call_args_list] == [20, 20, 5]
    assert {c.kwargs["Namespace"] for c in cloudwatch.put_metric_data.call_args_list} == {"Keel"}
