"""The self-contained HTML drift report: a verdict, a table of every feature, charts per drifted feature."""

from __future__ import annotations

from html import escape

from keel.drift.baseline import Baseline
from keel.drift.detect import DriftResult, FeatureDrift
from keel.drift.svg import bin_chart, ecdf_chart

_STYLE = """
body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
.drift{color:#b00020;font-weight:bold}.ok{color:#1b7f3b;font-weight:bold}
.charts{display:flex;gap:1em;flex-wrap:wrap}
"""


def render_html(result: DriftResult, baseline: Baseline) -> str:
    report = result.report
    verdict = (
        '<span class="drift">DATASET DRIFT</span>'
        if report.dataset_drift
        else '<span class="ok">no dataset drift</span>'
    )
    t = report.thresholds
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Drift report: {escape(report.contract)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Drift report: {escape(report.contract)} {escape(report.contract_version)}</h1>",
        f"<p>{verdict}: {len(report.drifted_features)} of {len(report.features)} feature(s) drifted "
        f"({report.drifted_share:.0%}; limit {t.max_drifted_feature_share:.0%}).</p>",
        f"<p>Reference: {escape(report.reference)} ({report.reference_rows} rows). "
        f"Current: {escape(report.current)} ({report.current_rows} rows).<br>"
        f"A feature drifts when PSI &gt; {t.max_feature_psi:g} or KS p-value &lt; {t.ks_p_value:g}.</p>",
        _table(report.features),
    ]
    drifted = [f for f in report.features if f.drifted]
    parts.append("<h2>Drifted features</h2>" if drifted else "<p>No feature drifted.</p>")
    for feature in drifted:
        parts.append(_feature_section(feature, result, baseline))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _number(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


_COLUMNS = (
    "feature",
    "PSI",
    "KS statistic",
    "KS p-value",
    "method",
    "reference n",
    "current n",
    "missing",
    "drifted",
)


def _table(features: list[FeatureDrift]) -> str:
    head = "".join(f"<th>{name}</th>" for name in _COLUMNS)
    rows = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    for f in features:
        flag = f'<span class="drift">yes: {escape("; ".join(f.reasons))}</span>' if f.drifted else "no"
        cells = (
            escape(f.name),
            _number(f.psi, ".4f"),
            _number(f.ks_statistic, ".4f"),
            _number(f.ks_p_value, ".3g"),
            f.ks_method or "–",
            f.reference_count,
            f.current_count,
            f.current_missing,
            flag,
        )
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _feature_section(feature: FeatureDrift, result: DriftResult, baseline: Baseline) -> str:
    charts = [
        bin_chart(
            f"{feature.name}: share per PSI bin",
            feature.bin_edges,
            feature.reference_proportions,
            feature.current_proportions,
        )
    ]
    reference, current = baseline.sorted_values[feature.name], result.current_sorted[feature.name]
    if len(reference) and len(current):
        charts.append(ecdf_chart(f"{feature.name}: empirical CDF", reference, current))
    return (
        f"<section><h3>{escape(feature.name)}</h3><p>{escape('; '.join(feature.reasons))}</p>"
        f'<div class="charts">{"".join(charts)}</div></section>'
    )
