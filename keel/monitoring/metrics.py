"""Metric data of Keel's own namespace: built by plain functions, put in batches.

Every datum carries the Environment dimension; per-feature drift metrics add Feature, pipeline executions add
Status, retrains are put twice (with and without Reason) so that one alarm sees all retrains and the
dashboard shows them by reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from keel.monitoring.names import ENVIRONMENT, FEATURE, REASON, STATUS, Metric
from keel.monitoring.summary import CaptureSummary, ReportView
from keel.naming import METRICS_NAMESPACE

MetricDatum = dict[str, Any]
_BATCH = 20  # PutMetricData accepts up to 1000 data per call; moto and older SDKs enforce 20


def datum(
    metric: Metric,
    value: float,
    *,
    environment: str,
    timestamp: datetime,
    unit: str = "None",
    dimensions: Mapping[str, str] | None = None,
) -> MetricDatum:
    return {
        "MetricName": metric.value,
        "Dimensions": [{"Name": ENVIRONMENT, "Value": environment}]
        + [{"Name": name, "Value": value} for name, value in (dimensions or {}).items()],
        "Timestamp": timestamp,
        "Value": float(value),
        "Unit": unit,
    }


def drift_data(
    report: ReportView | None, summary: CaptureSummary, *, environment: str, timestamp: datetime
) -> list[MetricDatum]:
    """The metrics of one production drift check. The verdict (share, per-feature statistics) only when
    enough rows were compared; the check itself, the rows and the unparseable records always (zeros too, so
    their alarms return to OK)."""
    common: dict[str, Any] = {"environment": environment, "timestamp": timestamp}
    data = [
        datum(Metric.DRIFT_CHECKS, 1, unit="Count", **common),
        datum(Metric.CAPTURE_ROWS, summary.rows, unit="Count", **common),
        datum(Metric.CAPTURE_RECORDS_UNPARSEABLE, summary.unparseable_records, unit="Count", **common),
    ]
    if report is None or not summary.sufficient:
        return data
    for feature in report.features:
        for metric, value in (
            (Metric.FEATURE_PSI, feature.psi),
            (Metric.FEATURE_KS_STATISTIC, feature.ks_statistic),
            (Metric.FEATURE_KS_P_VALUE, feature.ks_p_value),
        ):
            if value is not None:
                data.append(datum(metric, value, dimensions={FEATURE: feature.name}, **common))
    data.append(datum(Metric.DRIFTED_FEATURE_SHARE, report.drifted_share, **common))
    data.append(datum(Metric.DRIFTED_FEATURES, len(report.drifted_features), unit="Count", **common))
    return data


def pipeline_data(
    *,
    environment: str,
    timestamp: datetime,
    status: str | None = None,
    retrain_reason: str | None = None,
    validation: Mapping[str, Any] | None = None,
) -> list[MetricDatum]:
    """Metrics of a training-pipeline execution: its end status, its start (a retraining, by reason) and the
    validation outcome (failed expectations and errors; 0 when the data passed)."""
    common: dict[str, Any] = {"environment": environment, "timestamp": timestamp}
    data: list[MetricDatum] = []
    if status:
        data.append(datum(Metric.PIPELINE_EXECUTIONS, 1, unit="Count", dimensions={STATUS: status}, **common))
    if retrain_reason:
        data.append(datum(Metric.RETRAINS, 1, unit="Count", **common))
        data.append(datum(Metric.RETRAINS, 1, unit="Count", dimensions={REASON: retrain_reason}, **common))
    if validation is not None:
        failures = len(validation.get("failures") or []) + len(validation.get("errors") or [])
        if validation.get("success") is False:
            failures = max(failures, 1)
        data.append(datum(Metric.VALIDATION_FAILURES, failures, unit="Count", **common))
        quarantined = int(validation.get("quarantined_rows") or 0)
        data.append(datum(Metric.QUARANTINED_ROWS, quarantined, unit="Count", **common))
    return data


def put_metric_data(cloudwatch: Any, data: Sequence[MetricDatum], namespace: str = METRICS_NAMESPACE) -> int:
    for start in range(0, len(data), _BATCH):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=list(data[start : start + _BATCH]))
    return len(data)
