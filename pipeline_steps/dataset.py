"""Model-facing view of the contract and the train/validation/test split files, shared by the steps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from keel.contract import ColumnType, DatasetContract
from keel.quality.loading import load_frame

SPLITS = ("train", "validation", "test")
MODEL_TYPES = (ColumnType.DOUBLE, ColumnType.INTEGER, ColumnType.BOOLEAN)


def model_features(contract: DatasetContract) -> list[str]:
    """Features the model sees: numeric/boolean, never PII (PII columns are not written to the splits)."""
    return [c.name for c in contract.feature_columns if c.type in MODEL_TYPES and not c.pii]


def excluded_features(contract: DatasetContract) -> dict[str, str]:
    """Features left out of the model, with the reason (recorded in the preprocess manifest)."""
    excluded = {}
    for column in contract.feature_columns:
        if column.pii:
            excluded[column.name] = "pii"
        elif column.type not in MODEL_TYPES:
            excluded[column.name] = f"type {column.type.value} is not encoded by this model"
    return excluded


def stratify_on_target(contract: DatasetContract) -> bool:
    """A discrete target (integer, boolean, text, or a declared value set) is split class by class."""
    target = contract.target_column
    return target.allowed_values is not None or target.type is not ColumnType.DOUBLE


def split_indices(
    n_rows: int, labels: np.ndarray | None, *, validation: float, test: float, seed: int
) -> dict[str, np.ndarray]:
    """Deterministic seeded split of row positions into train/validation/test, per class if `labels`.

    Each class is shuffled with one seeded generator (classes in sorted order) and cut by rounding its size
    times the fractions; a class too small to give every split a row keeps at least one row in train.
    """
    if not (0 <= validation < 1 and 0 <= test < 1 and validation + test < 1):
        raise ValueError(f"fractions must be >= 0 and sum to < 1 (validation={validation}, test={test})")
    rng = np.random.default_rng(seed)
    if labels is None:
        groups = [np.arange(n_rows)]
    else:
        codes = pd.factorize(pd.Series(labels), sort=True)[0]
        groups = [np.flatnonzero(codes == code) for code in range(codes.max() + 1)] if n_rows else []
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for group in groups:
        shuffled = rng.permutation(group)
        size = len(shuffled)
        n_test = min(math.floor(size * test + 0.5), max(size - 1, 0))
        n_validation = min(math.floor(size * validation + 0.5), max(size - 1 - n_test, 0))
        parts["test"].append(shuffled[:n_test])
        parts["validation"].append(shuffled[n_test : n_test + n_validation])
        parts["train"].append(shuffled[n_test + n_validation :])
    # Sorted positions keep the input's row order inside each split (stable, diff-friendly files).
    return {
        name: np.sort(np.concatenate(chunks)) if chunks else np.empty(0, np.int64)
        for name, chunks in parts.items()
    }


def split_file(directory: Path, split: str) -> Path:
    return directory / f"{split}.csv"


def read_split(source: Path, contract: DatasetContract, columns: list[str]) -> pd.DataFrame:
    """A split written by preprocess (canonical headers); `source` is its file or its channel directory."""
    return load_frame(source, contract, columns)
