"""Production drift: captured inference inputs against the deployed model's training baseline.

The same PSI/KS comparison as the pipeline's drift step (`keel.drift`), on rows parsed from data capture.
With fewer rows than `min_rows` the comparison is still reported when possible, but carries no verdict
(`sufficient` is false) so that a quiet hour cannot start a retraining.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from keel.contract import DatasetContract
from keel.drift.baseline import Baseline
from keel.drift.detect import DriftResult, DriftThresholds, compare
from keel.monitoring.capture import ParsedCapture, Rejected
from keel.monitoring.summary import CaptureSummary

PREPROCESS_MANIFEST = "preprocess.json"  # written next to the baseline by pipeline_steps/preprocess.py


@dataclass(frozen=True)
class ProductionDrift:
    summary: CaptureSummary
    result: DriftResult | None  # None when no row could be compared
    rejected: list[Rejected]

    @property
    def verdict(self) -> bool:
        """A drift verdict may be published (enough rows were compared)."""
        return self.summary.sufficient and self.result is not None


def model_feature_order(baseline_dir: Path | None, contract: DatasetContract) -> list[str]:
    """The column order of inference requests: the features the model was trained on (preprocess manifest),
    else the contract's non-PII features."""
    manifest = baseline_dir / PREPROCESS_MANIFEST if baseline_dir else None
    if manifest and manifest.is_file():
        features = json.loads(manifest.read_text(encoding="utf-8")).get("features")
        if isinstance(features, list) and features:
            return [str(name) for name in features]
    return [c.name for c in contract.feature_columns if not c.pii]


def evaluate_capture(
    baseline: Baseline,
    parsed: ParsedCapture,
    *,
    files: int,
    feature_order: Sequence[str],
    drift_features: Sequence[str],
    thresholds: DriftThresholds,
    min_rows: int,
    capture_label: str,
    baseline_label: str,
) -> ProductionDrift:
    """Compare the parsed rows with the baseline (if any row parsed) and summarise the check."""
    frame = pd.DataFrame(parsed.rows, columns=list(feature_order), dtype="float64")
    features = [name for name in drift_features if name in frame.columns]
    result = (
        compare(
            baseline,
            frame,
            thresholds,
            features=features,
            reference_label=baseline_label,
            current_label=capture_label,
        )
        if len(frame)
        else None
    )
    sufficient = len(frame) >= min_rows
    summary = CaptureSummary(
        capture=capture_label,
        baseline=baseline_label,
        files=files,
        records=parsed.records,
        rows=len(frame),
        unparseable_records=len(parsed.rejected),
        rejection_reasons=dict(Counter(r.category for r in parsed.rejected)),
        min_rows=min_rows,
        sufficient=sufficient,
        dataset_drift=result.report.dataset_drift if result is not None and sufficient else None,
    )
    return ProductionDrift(summary=summary, result=result, rejected=parsed.rejected)
