"""One production drift check on local folders: the shared core of the processing job (`drift_job`) and of
the in-process publisher (`publish`).

Inputs: the baseline folder (baseline.json, reference.npz, preprocess.json) and the capture files. Outputs:
drift_report.json + drift_report.html (when any row parsed) and capture_summary.json in `output_dir`;
`rejected.jsonl` (one note per unparseable record, with its reason) and copies of unreadable files under
`quarantine_dir`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from keel.contract import DatasetContract
from keel.drift.baseline import load_baseline
from keel.drift.detect import DriftThresholds
from keel.drift.reports import write_reports
from keel.monitoring.capture import ParsedCapture, Rejected, parse_capture_file
from keel.monitoring.production import ProductionDrift, evaluate_capture, model_feature_order
from keel.monitoring.summary import CAPTURE_SUMMARY_JSON

REJECTED_JSONL = "rejected.jsonl"
QUARANTINED_FILES = "files"
CAPTURE_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class CheckOutputs:
    drift: ProductionDrift
    files: list[Path]  # written below output_dir
    quarantined: list[Path]  # written below quarantine_dir


def capture_files(directory: Path) -> Iterator[tuple[str, Path]]:
    """(relative name, path) of every file below a folder, in name order."""
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        yield path.relative_to(directory).as_posix(), path


def run_drift_check(
    *,
    baseline_dir: Path,
    captures: Iterable[tuple[str, bytes]],
    output_dir: Path,
    quarantine_dir: Path,
    contract: DatasetContract,
    thresholds: DriftThresholds,
    min_rows: int,
    capture_label: str,
    baseline_label: str,
) -> CheckOutputs:
    """`captures` yields (source, content) pairs; a source not ending in .jsonl is not a capture file."""
    baseline = load_baseline(baseline_dir)
    order = model_feature_order(baseline_dir, contract)
    parsed = ParsedCapture()
    quarantined: list[Path] = []
    files = 0
    for source, body in captures:
        files += 1
        if not source.endswith(CAPTURE_SUFFIX):
            one = ParsedCapture(rejected=[Rejected(source, 0, "not-a-capture-file", "not a .jsonl file", "")])
        else:
            one = parse_capture_file(source, body, order)
        if any(r.line == 0 for r in one.rejected):
            quarantined.append(_keep_file(quarantine_dir, source, body))
        parsed.extend(one)
    drift = evaluate_capture(
        baseline,
        parsed,
        files=files,
        feature_order=order,
        drift_features=[f for f in contract.drift_features if f in baseline.document.features],
        thresholds=thresholds,
        min_rows=min_rows,
        capture_label=capture_label,
        baseline_label=baseline_label,
    )
    written: list[Path] = []
    if drift.result is not None:
        written.extend(write_reports(drift.result, baseline, output_dir))
    if drift.rejected:
        quarantine_dir.mkdir(parents=True, exist_ok=True)
        notes = quarantine_dir / REJECTED_JSONL
        notes.write_text("".join(json.dumps(r.note()) + "\n" for r in drift.rejected), encoding="utf-8")
        quarantined.insert(0, notes)
    output_dir.mkdir(parents=True, exist_ok=True)
    summary_path = output_dir / CAPTURE_SUMMARY_JSON
    summary_path.write_text(drift.summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    written.append(summary_path)
    return CheckOutputs(drift=drift, files=written, quarantined=quarantined)


def _keep_file(quarantine_dir: Path, source: str, body: bytes) -> Path:
    # s3://bucket/key keeps its key; a local path its relative parts.
    relative = PurePosixPath(source[5:].partition("/")[2] if source.startswith("s3://") else source)
    safe = PurePosixPath(*[part for part in relative.parts if part not in ("..", ".", "/")])
    target = quarantine_dir / QUARANTINED_FILES / safe
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    return target


def read_summary(directory: Path) -> dict[str, object]:
    return dict(json.loads((directory / CAPTURE_SUMMARY_JSON).read_text(encoding="utf-8")))
