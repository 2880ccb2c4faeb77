"""Compare a dataset with a baseline: PSI and KS per feature, and the drift verdict (drift_report.json).

A feature drifts when its PSI exceeds `max_feature_psi` or its KS p-value is below `ks_p_value`; the
dataset drifts when the share of drifted features exceeds `max_drifted_feature_share`. The thresholds come
from the environment config (`keel.config.Thresholds`), passed in, never defaulted here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from keel.drift.baseline import Baseline
from keel.drift.ks import ks_2samp_sorted
from keel.drift.psi import bin_proportions, psi


class ThresholdSource(Protocol):
    max_feature_psi: float
    ks_p_value: float
    max_drifted_feature_share: float


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftThresholds(_Model):
    max_feature_psi: float = Field(gt=0)
    ks_p_value: float = Field(gt=0, lt=1)
    max_drifted_feature_share: float = Field(ge=0, le=1)

    @classmethod
    def of(cls, source: ThresholdSource) -> DriftThresholds:
        """From `keel.config.Thresholds` (or anything with the three attributes)."""
        return cls(
            max_feature_psi=source.max_feature_psi,
            ks_p_value=source.ks_p_value,
            max_drifted_feature_share=source.max_drifted_feature_share,
        )


def resolve_thresholds(
    environment: str | None,
    *,
    max_feature_psi: float | None = None,
    ks_p_value: float | None = None,
    max_drifted_feature_share: float | None = None,
) -> DriftThresholds:
    """Explicit values win; any not given come from the environment config (cdk.json), which must then be
    readable (it is not inside a job's container: the pipeline passes all three)."""
    given = {
        k: v
        for k, v in (
            ("max_feature_psi", max_feature_psi),
            ("ks_p_value", ks_p_value),
            ("max_drifted_feature_share", max_drifted_feature_share),
        )
        if v is not None
    }
    if len(given) == 3:
        return DriftThresholds(**given)
    from keel.config import load_environment

    configured = DriftThresholds.of(load_environment(environment).thresholds)
    return DriftThresholds(**(configured.model_dump() | given))


class FeatureDrift(_Model):
    name: str
    drifted: bool
    reasons: list[str]  # e.g. ["psi 0.41 > 0.2", "ks p-value 1.2e-30 < 0.01"]
    psi: float | None
    ks_statistic: float | None
    ks_p_value: float | None
    ks_method: Literal["exact", "asymp"] | None
    reference_count: int
    current_count: int
    current_missing: int
    bin_edges: list[float]
    reference_proportions: list[float]
    current_proportions: list[float]


class DriftReport(_Model):
    schema_version: Literal[1] = 1
    contract: str
    contract_version: str
    reference: str  # where the baseline came from (path or URI), for the reader
    current: str
    reference_rows: int
    current_rows: int
    thresholds: DriftThresholds
    features: list[FeatureDrift]
    drifted_features: list[str]
    drifted_share: float
    dataset_drift: bool


@dataclass(frozen=True)
class DriftResult:
    report: DriftReport
    current_sorted: Mapping[str, np.ndarray]  # kept for the HTML report's ECDF plots


def compare(
    baseline: Baseline,
    current: pd.DataFrame,
    thresholds: DriftThresholds,
    *,
    features: Sequence[str] | None = None,
    reference_label: str = "baseline",
    current_label: str = "current",
) -> DriftResult:
    """PSI and KS of every feature of `current` (canonical names) against the baseline."""
    names = list(features) if features is not None else list(baseline.features)
    unknown = [n for n in names if n not in baseline.document.features]
    if unknown:
        raise ValueError(
            f"feature(s) {', '.join(unknown)} are not in the baseline "
            f"(baseline features: {', '.join(baseline.features)})"
        )
    results: list[FeatureDrift] = []
    current_sorted: dict[str, np.ndarray] = {}
    for name in names:
        raw = current[name].to_numpy(dtype=np.float64, na_value=np.nan)
        missing = int(np.count_nonzero(np.isnan(raw)))
        values = np.sort(raw)[: len(raw) - missing]  # NaN sorts last: a view, not another copy
        current_sorted[name] = values
        results.append(_feature(name, baseline, values, missing=missing, thresholds=thresholds))
    drifted = [f.name for f in results if f.drifted]
    share = len(drifted) / len(results) if results else 0.0
    report = DriftReport(
        contract=baseline.document.contract,
        contract_version=baseline.document.contract_version,
        reference=reference_label,
        current=current_label,
        reference_rows=baseline.document.rows,
        current_rows=len(current),
        thresholds=thresholds,
        features=results,
        drifted_features=drifted,
        drifted_share=share,
        dataset_drift=share > thresholds.max_drifted_feature_share,
    )
    return DriftResult(report, current_sorted)


def _feature(
    name: str, baseline: Baseline, values: np.ndarray, *, missing: int, thresholds: DriftThresholds
) -> FeatureDrift:
    summary = baseline.document.features[name]
    reference = baseline.sorted_values[name]
    edges = np.asarray(summary.edges, dtype=np.float64)
    current_props = bin_proportions(values, edges)
    common = {
        "name": name,
        "reference_count": len(reference),
        "current_count": len(values),
        "current_missing": missing,
        "bin_edges": summary.edges,
        "reference_proportions": summary.proportions,
        "current_proportions": current_props.tolist(),
    }
    if not len(values) or not len(reference):
        side = "current" if not len(values) else "reference"
        # Nothing to compare is not "no drift": flag it so that someone looks.
        return FeatureDrift(
            drifted=True,
            reasons=[f"no {side} values"],
            psi=None,
            ks_statistic=None,
            ks_p_value=None,
            ks_method=None,
            **common,
        )
    score = psi(np.asarray(summary.proportions), current_props)
    ks = ks_2samp_sorted(reference, values)
    reasons = []
    if score > thresholds.max_feature_psi:
        reasons.append(f"psi {score:.3g} > {thresholds.max_feature_psi:g}")
    if ks.pvalue < thresholds.ks_p_value:
        reasons.append(f"ks p-value {ks.pvalue:.3g} < {thresholds.ks_p_value:g}")
    return FeatureDrift(
        drifted=bool(reasons),
        reasons=reasons,
        psi=score,
        ks_statistic=ks.statistic,
        ks_p_value=ks.pvalue,
        ks_method=ks.method,
        **common,
    )
