"""Multiclass metrics in the SageMaker Model Monitor model-quality format (evaluation.json).

Shape: {"multiclass_classification_metrics": {"accuracy": {"value": v, "standard_deviation": s}, ...,
"confusion_matrix": {actual: {predicted: count}}}}. As Model Monitor does, the standard deviation is that of
the metric over 5 random 80 % subsamples, given only from 200 rows up, else the string "NaN". The
"best constant classifier" metrics score always predicting the most frequent actual class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, fbeta_score, precision_score, recall_score

MIN_ROWS_FOR_STD, SUBSAMPLES, SUBSAMPLE_FRACTION = 200, 5, 0.8

Metric = Callable[[np.ndarray, np.ndarray], float]


def _weighted_f(beta: float) -> Metric:
    return lambda y, p: float(fbeta_score(y, p, beta=beta, average="weighted", zero_division=0))


METRICS: dict[str, Metric] = {
    "accuracy": lambda y, p: float(accuracy_score(y, p)),
    "weighted_recall": lambda y, p: float(recall_score(y, p, average="weighted", zero_division=0)),
    "weighted_precision": lambda y, p: float(precision_score(y, p, average="weighted", zero_division=0)),
    "weighted_f0_5": _weighted_f(0.5),
    "weighted_f1": _weighted_f(1.0),
    "weighted_f2": _weighted_f(2.0),
}


def multiclass_classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, *, seed: int = 0
) -> dict[str, Any]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not len(y_true):
        raise ValueError("no rows to evaluate")
    values, counts = np.unique(y_true, return_counts=True)
    constant = np.full_like(y_true, values[np.argmax(counts)])
    subsamples = _subsamples(len(y_true), seed)
    result: dict[str, Any] = {"confusion_matrix": confusion_matrix(y_true, y_pred)}
    for name, metric in METRICS.items():
        result[name] = _scored(metric, y_true, y_pred, subsamples)
    for name, metric in METRICS.items():
        result[f"{name}_best_constant_classifier"] = _scored(metric, y_true, constant, subsamples)
    return result


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, int]]:
    """{actual label: {predicted label: count}} over every label seen on either side, keys as strings."""
    labels = np.unique(np.concatenate([y_true, y_pred]))
    return {
        _label(actual): {_label(p): int(np.sum((y_true == actual) & (y_pred == p))) for p in labels}
        for actual in labels
    }


def _label(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _subsamples(rows: int, seed: int) -> list[np.ndarray] | None:
    if rows < MIN_ROWS_FOR_STD:
        return None
    rng = np.random.default_rng(seed)
    size = int(rows * SUBSAMPLE_FRACTION)
    return [rng.choice(rows, size=size, replace=False) for _ in range(SUBSAMPLES)]


def _scored(
    metric: Metric, y_true: np.ndarray, y_pred: np.ndarray, subsamples: list[np.ndarray] | None
) -> dict[str, Any]:
    value = metric(y_true, y_pred)
    if subsamples is None:
        return {"value": value, "standard_deviation": "NaN"}
    spread = float(np.std([metric(y_true[rows], y_pred[rows]) for rows in subsamples]))
    return {"value": value, "standard_deviation": spread}
