"""PSI over quantile bins of the reference."""

from __future__ import annotations

import numpy as np
import pytest

from keel.drift.psi import EPSILON, bin_proportions, psi, quantile_edges


def test_quantile_edges_split_the_reference_evenly() -> None:
    values = np.arange(1.0, 101.0)
    edges = quantile_edges(values, 10)
    assert edges.tolist() == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    assert bin_proportions(values, edges).tolist() == [0.1] * 10


def test_ties_merge_bins_but_none_is_empty_on_the_reference_side() -> None:
    values = np.sort(np.random.default_rng(0).integers(3, 9, 1000).astype(float))
    edges = quantile_edges(values, 10)
    proportions = bin_proportions(values, edges)
    assert len(edges) < 9 and (proportions > 0).all() and proportions.sum() == pytest.approx(1)


def test_values_outside_the_reference_land_in_the_outer_bins() -> None:
    edges = np.array([1.0, 2.0])
    assert bin_proportions(np.array([-50.0, 1.0, 1.5, 99.0]), edges).tolist() == [0.5, 0.25, 0.25]


def test_psi_values() -> None:
    same = np.array([0.25, 0.25, 0.5])
    assert psi(same, same) == 0
    shifted = psi(np.array([0.5, 0.5]), np.array([0.9, 0.1]))
    assert shifted == pytest.approx(0.4 * np.log(0.9 / 0.5) - 0.4 * np.log(0.1 / 0.5))
    # An empty bin is floored at EPSILON instead of making PSI infinite.
    assert np.isfinite(psi(np.array([1.0, 0.0]), np.array([0.5, 0.5])))
    assert psi(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(
        (0.5 - 1) * np.log(0.5) + (0.5 - EPSILON) * np.log(0.5 / EPSILON)
    )


def test_degenerate_reference() -> None:
    assert quantile_edges(np.array([4.0, 4.0, 4.0])).size == 0
    assert quantile_edges(np.array([])).size == 0
    assert bin_proportions(np.array([]), np.array([1.0])).tolist() == [0.0, 0.0]
