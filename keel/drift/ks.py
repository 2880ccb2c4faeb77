"""Two-sample Kolmogorov–Smirnov test on pre-sorted samples, equal to scipy's `ks_2samp` (two-sided, auto).

The reference side of a drift check is stored sorted in the baseline, so only the current sample is sorted
here, and the two sorted samples are merged in linear time instead of scipy's two binary searches of the
concatenation. The empirical CDFs are evaluated at the same points with the same integer counts and float
operations as scipy, so the statistic is bit-for-bit the same; the p-value is computed by scipy's own
distribution code with the method `ks_2samp(method="auto")` picks.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

# scipy's 'auto' mode computes the exact distribution up to this sample size (scipy.stats.ks_2samp).
MAX_EXACT_N = 10_000

Method = Literal["exact", "asymp"]


@dataclass(frozen=True)
class KsResult:
    statistic: float
    pvalue: float
    method: Method


def ks_2samp_sorted(reference: np.ndarray, current: np.ndarray) -> KsResult:
    """KS test of two ascending-sorted, NaN-free 1-D samples (reference as `data1`, current as `data2`)."""
    n1, n2 = len(reference), len(current)
    if not n1 or not n2:
        raise ValueError("KS test needs two non-empty samples")
    d = ks_statistic_sorted(reference, current)
    method: Method = "exact" if max(n1, n2) <= MAX_EXACT_N else "asymp"
    if method == "exact":
        exact = _exact_pvalue(n1, n2, d)
        if exact is not None:
            return KsResult(statistic=exact[0], pvalue=exact[1], method="exact")
        method = "asymp"  # as scipy does when the exact computation over- or underflows
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    pvalue = float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))
    return KsResult(statistic=d, pvalue=pvalue, method=method)


def ks_statistic_sorted(reference: np.ndarray, current: np.ndarray) -> float:
    """sup |F_ref - F_cur|, evaluated like scipy: right-continuous ECDFs at every observed value.

    A stable argsort of the two concatenated sorted runs is a single linear merge (timsort finds the runs).
    Walking the merged order, the count of reference values seen so far is a cumulative sum; at the last
    element of each run of equal values both counts equal scipy's `searchsorted(..., side="right")`.
    The extremes are located in exact integer arithmetic (F_ref - F_cur scaled by n1 * n2), and only the
    few candidate positions are evaluated in floating point, with scipy's operations, so the result is
    bit-for-bit scipy's.
    """
    n1, n2 = len(reference), len(current)
    total = n1 + n2
    values = np.concatenate([reference, current])
    order = np.argsort(values, kind="stable")
    count1 = np.cumsum(order < n1)
    ties = values[order]
    ties = ties[1:] == ties[:-1]
    del order, values  # the merge is done; free ~32 MB per million values before the next arrays
    if ties.any():
        positions = np.flatnonzero(np.append(~ties, True))  # last element of each run of equal values
        count1, seen = count1[positions], positions + 1
        scaled = count1 * total - seen * n1
    else:
        seen = None  # every position: seen = position + 1
        scaled = count1 * total
        scaled -= np.arange(n1, n1 * (total + 1), n1, dtype=np.int64)
    # scaled = count1 * n2 - count2 * n1 = (F_ref - F_cur) * n1 * n2, exactly
    max_s = _extreme(scaled, count1, seen, n1, n2, largest=True)
    min_s = float(np.clip(-_extreme(scaled, count1, seen, n1, n2, largest=False), 0, 1))  # scipy's minS
    return min_s if min_s > max_s else max_s


def _extreme(
    scaled: np.ndarray, count1: np.ndarray, seen: np.ndarray | None, n1: int, n2: int, *, largest: bool
) -> float:
    """max (or min) of count1 / n1 - count2 / n2 as scipy computes it in floating point.

    Distinct exact values differ by at least 1 / (n1 * n2); rounding moves a computed difference by less
    than 4 ulp of 1, so only positions within `slack` of the exact extreme can hold the float extreme.
    """
    slack = int(4 * np.finfo(np.float64).eps * n1 * n2) + 1
    if largest:
        candidates = np.flatnonzero(scaled >= scaled.max() - slack)
    else:
        candidates = np.flatnonzero(scaled <= scaled.min() + slack)
    count1 = count1[candidates]
    count2 = (candidates + 1 if seen is None else seen[candidates]) - count1
    diffs = count1 / n1 - count2 / n2
    return float(diffs.max() if largest else diffs.min())


def _exact_pvalue(n1: int, n2: int, d: float) -> tuple[float, float] | None:
    """scipy's exact two-sided p-value, with the statistic rounded onto the lattice as scipy returns it.

    scipy exposes no public function for the exact two-sample distribution; this is the helper ks_2samp
    itself calls. The equality tests against ks_2samp pin its behaviour for the installed scipy.
    """
    from scipy.stats._stats_py import _attempt_exact_2kssamp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        success, d_exact, prob = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
    if not success:
        return None
    return float(d_exact), float(np.clip(prob, 0, 1))
