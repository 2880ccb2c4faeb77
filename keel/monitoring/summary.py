"""The outputs of a production drift check as the metric publisher reads them: capture_summary.json and the
parts of drift_report.json that become metrics. No numpy or pandas here: the publisher runs in a Lambda."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

CAPTURE_SUMMARY_JSON = "capture_summary.json"
REPORT_JSON = "drift_report.json"  # as keel.drift.reports writes it


class CaptureSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    kind: Literal["keel-production-drift"] = "keel-production-drift"
    capture: str
    baseline: str
    files: int
    records: int
    rows: int
    unparseable_records: int
    rejection_reasons: dict[str, int]
    min_rows: int
    sufficient: bool
    dataset_drift: bool | None  # None: not enough rows for a verdict


class FeatureView(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    drifted: bool
    psi: float | None
    ks_statistic: float | None
    ks_p_value: float | None


class ReportView(BaseModel):
    """The metric-relevant part of a `keel.drift.detect.DriftReport`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    features: list[FeatureView]
    drifted_features: list[str]
    drifted_share: float
    dataset_drift: bool

    @classmethod
    def of(cls, report: Any) -> ReportView:
        """From a DriftReport (or its JSON document)."""
        document = report if isinstance(report, dict) else json.loads(report.model_dump_json())
        return cls.model_validate(document)
