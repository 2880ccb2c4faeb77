"""Population Stability Index over quantile bins of the reference sample.

Bins are right-closed intervals split at interior edges: (-inf, e1], (e1, e2], ..., (ek, +inf), so values
outside the reference range land in the outer bins instead of being dropped. Edges are reference values
(the "inverted_cdf" quantile), so every bin holds at least one reference value.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BINS = 10
# Floor for empty bins: without it one empty bin makes PSI infinite (ln 0).
EPSILON = 1e-4


def quantile_edges(sorted_values: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Interior bin edges at the reference quantiles 1/bins .. (bins-1)/bins, duplicates removed."""
    if bins < 2 or not len(sorted_values):
        return np.empty(0, dtype=np.float64)
    probabilities = np.arange(1, bins) / bins
    edges = np.unique(np.quantile(sorted_values, probabilities, method="inverted_cdf"))
    # An edge at the maximum would leave the top bin empty on the reference side (ties at the maximum).
    return edges[edges < sorted_values[-1]]


def bin_proportions(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of a sorted sample in each of the len(edges) + 1 bins."""
    if not len(sorted_values):
        return np.zeros(len(edges) + 1)
    at_or_below = np.searchsorted(sorted_values, edges, side="right")
    counts = np.diff(np.concatenate(([0], at_or_below, [len(sorted_values)])))
    return counts / len(sorted_values)


def psi(reference: np.ndarray, current: np.ndarray, epsilon: float = EPSILON) -> float:
    """sum((cur - ref) * ln(cur / ref)) over bins, with proportions floored at `epsilon`."""
    ref = np.maximum(reference, epsilon)
    cur = np.maximum(current, epsilon)
    return float(np.sum((cur - ref) * np.log(cur / ref)))
