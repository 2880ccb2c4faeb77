"""Drift verdicts on real data (white vs red wine), thresholds, and the self-contained HTML report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keel.contract import load_contract
from keel.drift.baseline import build_baseline
from keel.drift.detect import DriftThresholds, compare, resolve_thresholds
from keel.drift.html import render_html
from keel.drift.reports import write_reports
from keel.quality.loading import load_frame

CONTRACT = load_contract()
DATA = Path(__file__).resolve().parents[2] / "data" / "wine-quality"
THRESHOLDS = DriftThresholds(max_feature_psi=0.2, ks_p_value=0.01, max_drifted_feature_share=0.25)


@pytest.fixture(scope="module")
def white() -> pd.DataFrame:
    return load_frame(DATA / "winequality-white.csv", CONTRACT).sample(frac=1, random_state=0)


@pytest.fixture(scope="module")
def red() -> pd.DataFrame:
    return load_frame(DATA / "winequality-red.csv", CONTRACT)


def test_red_wine_drifts_from_white(white: pd.DataFrame, red: pd.DataFrame) -> None:
    result = compare(build_baseline(white, CONTRACT), red, THRESHOLDS)
    report = result.report
    assert report.dataset_drift and report.drifted_share == 1.0
    chlorides = next(f for f in report.features if f.name == "chlorides")
    assert chlorides.psi > 1 and chlorides.ks_statistic > 0.5 and chlorides.ks_method == "exact"
    assert chlorides.reasons[0].startswith("psi ") and chlorides.reasons[1].startswith("ks p-value ")


def test_a_random_half_does_not_drift(white: pd.DataFrame) -> None:
    half = len(white) // 2
    report = compare(build_baseline(white.iloc[:half], CONTRACT), white.iloc[half:], THRESHOLDS).report
    assert not report.dataset_drift and report.drifted_share <= 0.25
    assert all(f.psi < 0.2 for f in report.features)


def test_identical_data_scores_zero(white: pd.DataFrame) -> None:
    report = compare(build_baseline(white, CONTRACT), white, THRESHOLDS).report
    assert all(f.psi == 0 and f.ks_statistic == 0 and f.ks_p_value == 1 for f in report.features)
    assert report.drifted_features == []


def test_a_feature_without_values_is_flagged(white: pd.DataFrame) -> None:
    current = white.head(100).assign(alcohol=np.nan)
    feature = compare(build_baseline(white, CONTRACT), current, THRESHOLDS).report.features[-1]
    assert feature.name == "alcohol" and feature.drifted and feature.reasons == ["no current values"]
    assert feature.current_missing == 100 and feature.psi is None


def test_unknown_feature_is_an_error(white: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="not in the baseline"):
        compare(build_baseline(white, CONTRACT, ["alcohol"]), white, THRESHOLDS, features=["density"])


def test_thresholds_from_arguments_then_config() -> None:
    explicit = resolve_thresholds(None, max_feature_psi=0.3, ks_p_value=0.05, max_drifted_feature_share=0.5)
    assert explicit == DriftThresholds(max_feature_psi=0.3, ks_p_value=0.05, max_drifted_feature_share=0.5)
    mixed = resolve_thresholds("dev", ks_p_value=0.001)
    assert mixed.ks_p_value == 0.001 and mixed.max_feature_psi == 0.2
    with pytest.raises(ValueError, match="unknown environment"):
        resolve_thresholds("nowhere")
    with pytest.raises(ValueError, match="less than 1"):
        DriftThresholds(max_feature_psi=0.2, ks_p_value=1.5, max_drifted_feature_share=0.2)


def test_html_report_is_self_contained_with_a_plot_per_drifted_feature(
    white: pd.DataFrame, red: pd.DataFrame, tmp_path: Path
) -> None:
    baseline = build_baseline(white, CONTRACT)
    result = compare(baseline, red.head(300), THRESHOLDS)
    json_path, html_path = write_reports(result, baseline, tmp_path)
    html = html_path.read_text()
    assert json_path.name == "drift_report.json" and html == render_html(result, baseline)
    drifted = result.report.drifted_features
    assert all(f"<h3>{name}</h3>" in html for name in drifted)
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) == 2 * len(drifted)
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    # No external assets: the only URL is the SVG namespace identifier.
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "<script" not in html and "<link" not in html and "<img" not in html
