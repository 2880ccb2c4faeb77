"""The production drift check in-process: read captured traffic and the baseline from S3, write the reports,
quarantine what cannot be parsed, put the drift metrics. The local runner calls `publish_drift` directly; in
AWS the same check runs as a SageMaker processing job (`keel.monitoring.drift_job`) and the drift publisher
Lambda puts the metrics from its outputs (`metrics_from_outputs`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract, load_contract
from keel.drift.detect import DriftThresholds
from keel.monitoring import s3 as s3io
from keel.monitoring.drift_check import run_drift_check
from keel.monitoring.metrics import MetricDatum, drift_data, put_metric_data
from keel.monitoring.outputs import run_id
from keel.monitoring.settings import MonitoringSettings, monitoring_settings
from keel.monitoring.summary import CaptureSummary, ReportView
from keel.naming import QUARANTINE_PREFIX, BucketPurpose, KeyPurpose, bucket_name, endpoint_name, key_alias
from keel.serving.names import CAPTURE_QUARANTINE_SOURCE, DRIFT_REPORTS_PREFIX


@dataclass(frozen=True)
class DriftPublication:
    summary: CaptureSummary
    report: ReportView | None
    report_uri: str
    quarantine_uris: list[str]
    metrics: list[MetricDatum]


def default_report_uri(config: EnvironmentConfig, now: datetime) -> str:
    reports = bucket_name(config, BucketPurpose.REPORTS)
    return f"s3://{reports}/{DRIFT_REPORTS_PREFIX}{endpoint_name(config)}/{run_id(now)}/"


def quarantine_uri(config: EnvironmentConfig, now: datetime) -> str:
    reports = bucket_name(config, BucketPurpose.REPORTS)
    return f"s3://{reports}/{QUARANTINE_PREFIX}{CAPTURE_QUARANTINE_SOURCE}/{now:%Y-%m-%d}/{run_id(now)}/"


def publish_drift(
    *,
    s3: Any,
    cloudwatch: Any,
    config: EnvironmentConfig,
    capture_uri: str,
    baseline_uri: str,
    report_uri: str | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
    settings: MonitoringSettings | None = None,
    contract: DatasetContract | None = None,
) -> DriftPublication:
    """Compare the captured inputs under `capture_uri` (modified since `since`, default: the drift window)
    with the baseline at `baseline_uri`; write reports to `report_uri`; quarantine unparseable records under
    `quarantine/data-capture/`; put the metrics (namespace Keel, dimensions Environment [+ Feature])."""
    now = now or datetime.now(UTC)
    settings = settings or monitoring_settings(config)
    contract = contract or load_contract(config.contract)
    since = since if since is not None else now - timedelta(hours=settings.drift_window_hours)
    report_uri = report_uri or default_report_uri(config, now)
    kms_key = key_alias(config, KeyPurpose.ARTIFACTS)
    with tempfile.TemporaryDirectory(prefix="keel-drift-") as scratch:
        root = Path(scratch)
        if not s3io.download_prefix(s3, baseline_uri, root / "baseline"):
            raise FileNotFoundError(f"no drift baseline under {baseline_uri}")
        outputs = run_drift_check(
            baseline_dir=root / "baseline",
            captures=_captures(s3, capture_uri, since),
            output_dir=root / "output",
            quarantine_dir=root / "quarantine",
            contract=contract,
            thresholds=DriftThresholds.of(config.thresholds),
            min_rows=settings.min_capture_rows,
            capture_label=capture_uri,
            baseline_label=baseline_uri,
        )
        s3io.upload_tree(s3, root / "output", report_uri, kms_key_id=kms_key)
        quarantined = (
            s3io.upload_tree(s3, root / "quarantine", quarantine_uri(config, now), kms_key_id=kms_key)
            if outputs.quarantined
            else []
        )
    drift = outputs.drift
    report = ReportView.of(drift.result.report) if drift.result is not None else None
    data = drift_data(report, drift.summary, environment=config.name, timestamp=now)
    put_metric_data(cloudwatch, data)
    return DriftPublication(
        summary=drift.summary,
        report=report,
        report_uri=report_uri,
        quarantine_uris=quarantined,
        metrics=data,
    )


def _captures(s3: Any, capture_uri: str, since: datetime | None) -> Iterator[tuple[str, bytes]]:
    bucket, _ = s3io.split_uri(capture_uri)
    for key in s3io.list_keys(s3, capture_uri, since=since):
        yield f"s3://{bucket}/{key}", s3io.read(s3, bucket, key)
