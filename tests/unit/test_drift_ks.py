"""Keel's KS test on pre-sorted samples equals scipy.stats.ks_2samp (statistic and p-value)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from keel.drift.ks import MAX_EXACT_N, ks_2samp_sorted, ks_statistic_sorted

TOLERANCE = 1e-9

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Few distinct values: ties within and across samples, which is where ECDF code usually goes wrong.
tied = st.integers(min_value=-3, max_value=3).map(float)
samples = st.one_of(
    arrays(np.float64, st.integers(1, 120), elements=finite),
    arrays(np.float64, st.integers(1, 120), elements=tied),
)


def assert_same(reference: np.ndarray, current: np.ndarray) -> None:
    expected = stats.ks_2samp(reference, current)
    actual = ks_2samp_sorted(np.sort(reference), np.sort(current))
    assert abs(actual.statistic - expected.statistic) <= TOLERANCE
    assert abs(actual.pvalue - expected.pvalue) <= TOLERANCE


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_equals_scipy_on_small_samples(reference: np.ndarray, current: np.ndarray) -> None:
    assert_same(reference, current)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400), st.floats(-1, 1), st.integers(0, 2**32 - 1))
def test_equals_scipy_on_shifted_normals(n1: int, n2: int, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert_same(rng.normal(size=n1), rng.normal(shift, 1, size=n2))


@pytest.mark.parametrize(
    ("n1", "n2", "shift"), [(12_000, 15_000, 0.0), (20_000, 11_000, 0.03), (10_001, 300, 0.5)]
)
def test_equals_scipy_in_the_asymptotic_regime(n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(n1)
    reference, current = np.round(rng.normal(size=n1), 3), np.round(rng.normal(shift, 1, size=n2), 3)
    assert max(n1, n2) > MAX_EXACT_N
    assert ks_2samp_sorted(np.sort(reference), np.sort(current)).method == "asymp"
    assert_same(reference, current)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
def test_falls_back_to_asymptotic_where_scipy_does() -> None:
    # n1 = n2 = 14 with D = 1/14: scipy's exact probability leaves [0, 1], so it switches to 'asymp'.
    reference, current = np.zeros(14), np.r_[np.zeros(13), 1.0]
    assert ks_2samp_sorted(reference, current).method == "asymp"
    assert_same(reference, current)


def test_statistic_is_bit_identical() -> None:
    rng = np.random.default_rng(7)
    reference, current = rng.gamma(2, size=5000), rng.gamma(2.1, size=3000)
    expected = stats.ks_2samp(reference, current, method="asymp").statistic
    assert ks_statistic_sorted(np.sort(reference), np.sort(current)) == expected


def test_identical_samples_and_disjoint_samples() -> None:
    values = np.arange(10.0)
    same = ks_2samp_sorted(values, values)
    assert same.statistic == 0 and same.pvalue == 1 and same.method == "exact"
    apart = ks_2samp_sorted(values, values + 100)
    assert apart.statistic == 1 and apart.pvalue < 1e-4


def test_empty_sample_is_an_error() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        ks_2samp_sorted(np.array([]), np.array([1.0]))
