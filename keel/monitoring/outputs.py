"""Read a finished drift check's outputs from S3 and turn them into metric data (the Lambda side)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from keel.monitoring import s3 as s3io
from keel.monitoring.metrics import MetricDatum, drift_data
from keel.monitoring.summary import CAPTURE_SUMMARY_JSON, REPORT_JSON, CaptureSummary, ReportView


def run_id(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def metrics_from_outputs(
    s3: Any, output_uri: str, *, environment: str, timestamp: datetime
) -> tuple[CaptureSummary, ReportView | None, list[MetricDatum]]:
    """The metric data of a finished drift check, from capture_summary.json and drift_report.json."""
    bucket, prefix = s3io.split_uri(output_uri.rstrip("/") + "/")
    summary = CaptureSummary.model_validate_json(s3io.read(s3, bucket, prefix + CAPTURE_SUMMARY_JSON))
    report = None
    if summary.rows:
        report = ReportView.of(json.loads(s3io.read(s3, bucket, prefix + REPORT_JSON)))
    return summary, report, drift_data(report, summary, environment=environment, timestamp=timestamp)
