"""Write a drift result as drift_report.json and the self-contained drift_report.html."""

from __future__ import annotations

from pathlib import Path

from keel.drift.baseline import Baseline
from keel.drift.detect import DriftResult
from keel.drift.html import render_html

REPORT_JSON = "drift_report.json"
REPORT_HTML = "drift_report.html"


def write_reports(result: DriftResult, baseline: Baseline, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / REPORT_JSON, out_dir / REPORT_HTML
    json_path.write_text(result.report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    html_path.write_text(render_html(result, baseline), encoding="utf-8")
    return json_path, html_path
