"""The training baseline for drift detection: PSI bins and the sorted reference values, per feature.

On disk a baseline is a directory with `baseline.json` (bin edges, reference proportions, summary
statistics) and `reference.npz` (one sorted float64 array per feature, NaN dropped), so that a KS test
against the baseline is exact and needs no re-sorting of the reference.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from keel.contract import DatasetContract
from keel.drift.psi import DEFAULT_BINS, bin_proportions, quantile_edges

BASELINE_JSON = "baseline.json"
REFERENCE_NPZ = "reference.npz"


class BaselineError(ValueError):
    """A baseline directory is missing, incomplete or inconsistent; the message names the file."""


class FeatureSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int
    missing: int
    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    edges: list[float]  # interior PSI bin edges (right-closed bins)
    proportions: list[float]  # reference share per bin, len(edges) + 1


class BaselineDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    kind: Literal["keel-drift-baseline"] = "keel-drift-baseline"
    contract: str
    contract_version: str
    rows: int
    psi_bins: int
    values_file: str = REFERENCE_NPZ
    features: dict[str, FeatureSummary]


@dataclass(frozen=True)
class Baseline:
    document: BaselineDocument
    sorted_values: Mapping[str, np.ndarray]  # per feature, ascending, NaN-free

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.document.features)


def build_baseline(
    frame: pd.DataFrame,
    contract: DatasetContract,
    features: Sequence[str] | None = None,
    *,
    bins: int = DEFAULT_BINS,
) -> Baseline:
    """Baseline of `frame` (canonical names) over `features` (default: the contract's drift features)."""
    names = list(features) if features is not None else list(contract.drift_features)
    values: dict[str, np.ndarray] = {}
    summaries: dict[str, FeatureSummary] = {}
    for name in names:
        raw = pd.to_numeric(frame[name], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        present = np.sort(raw[~np.isnan(raw)])
        values[name] = present
        summaries[name] = _summary(present, missing=len(raw) - len(present), bins=bins)
    document = BaselineDocument(
        contract=contract.name,
        contract_version=contract.version,
        rows=len(frame),
        psi_bins=bins,
        features=summaries,
    )
    return Baseline(document, values)


def _summary(sorted_values: np.ndarray, *, missing: int, bins: int) -> FeatureSummary:
    edges = quantile_edges(sorted_values, bins)
    has = bool(len(sorted_values))
    return FeatureSummary(
        count=len(sorted_values),
        missing=missing,
        min=float(sorted_values[0]) if has else None,
        max=float(sorted_values[-1]) if has else None,
        mean=float(sorted_values.mean()) if has else None,
        std=float(sorted_values.std()) if has else None,
        edges=edges.tolist(),
        proportions=bin_proportions(sorted_values, edges).tolist(),
    )


def save_baseline(baseline: Baseline, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    document_path = directory / BASELINE_JSON
    values_path = directory / baseline.document.values_file
    # Uncompressed: loading is a plain read, and sorted doubles compress poorly anyway.
    with values_path.open("wb") as handle:
        arrays: dict[str, Any] = dict(baseline.sorted_values)
        np.savez(handle, **arrays)
    document_path.write_text(baseline.document.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return [document_path, values_path]


def is_baseline_dir(path: Path) -> bool:
    return path.is_dir() and (path / BASELINE_JSON).is_file()


def load_baseline(directory: Path) -> Baseline:
    document_path = directory / BASELINE_JSON
    if not document_path.is_file():
        raise BaselineError(f"{directory}: not a drift baseline (no {BASELINE_JSON})")
    try:
        document = BaselineDocument.model_validate(json.loads(document_path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValidationError) as error:
        raise BaselineError(f"{document_path}: invalid baseline document: {error}") from None
    values_path = directory / document.values_file
    if not values_path.is_file():
        raise BaselineError(f"{values_path}: reference values file is missing")
    with np.load(values_path, allow_pickle=False) as archive:
        values = {name: archive[name] for name in archive.files}
    for name, summary in document.features.items():
        array = values.get(name)
        if array is None or len(array) != summary.count:
            raise BaselineError(
                f"{values_path}: reference values of {name} are missing or do not match "
                f"{BASELINE_JSON} ({summary.count} values expected)"
            )
    return Baseline(document, values)
