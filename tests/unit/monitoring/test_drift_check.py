"""One production drift check on local folders (the processing job's core): reports, verdict, quarantine."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from keel.contract import load_contract
from keel.drift.baseline import build_baseline, save_baseline
from keel.drift.detect import DriftThresholds
from keel.monitoring import drift_job
from keel.monitoring.capture import capture_record
from keel.monitoring.drift_check import REJECTED_JSONL, run_drift_check
from keel.monitoring.production import model_feature_order
from tests.unit.monitoring.world import features, wine

CONTRACT = load_contract()
THRESHOLDS = DriftThresholds(max_feature_psi=0.2, ks_p_value=0.01, max_drifted_feature_share=0.25)


@pytest.fixture(scope="module")
def baseline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("baseline")
    save_baseline(build_baseline(wine("white"), CONTRACT), folder)
    (folder / "preprocess.json").write_text(json.dumps({"features": features(CONTRACT)}))
    return folder


def capture_file(colour: str, n: int, *, seed: int = 1) -> bytes:
    frame = wine(colour).sample(n=n, random_state=seed)[features(CONTRACT)]
    lines = [
        capture_record(row, inference_id=str(i), event_id=str(i), time=datetime(2026, 1, 1))
        for i, row in enumerate(frame.itertuples(index=False))
    ]
    return "\n".join(lines).encode()


def check(baseline_dir: Path, tmp_path: Path, captures: list[tuple[str, bytes]], min_rows: int = 100):  # type: ignore[no-untyped-def]
    return run_drift_check(
        baseline_dir=baseline_dir,
        captures=captures,
        output_dir=tmp_path / "out",
        quarantine_dir=tmp_path / "quarantine",
        contract=CONTRACT,
        thresholds=THRESHOLDS,
        min_rows=min_rows,
        capture_label="s3://reports/data-capture/",
        baseline_label="s3://artifacts/baseline",
    )


def test_red_wine_traffic_drifts_from_a_white_wine_baseline(baseline_dir: Path, tmp_path: Path) -> None:
    outputs = check(baseline_dir, tmp_path, [("s3://r/a.jsonl", capture_file("red", 400))])
    summary = outputs.drift.summary
    assert (summary.rows, summary.unparseable_records, summary.sufficient) == (400, 0, True)
    assert summary.dataset_drift is True
    report = json.loads((tmp_path / "out" / "drift_report.json").read_text())
    assert report["drifted_share"] > THRESHOLDS.max_drifted_feature_share
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "drift_report.json",
        "drift_report.html",
        "capture_summary.json",
    }
    assert not (tmp_path / "quarantine").exists()


def test_white_wine_traffic_does_not_drift(baseline_dir: Path, tmp_path: Path) -> None:
    outputs = check(baseline_dir, tmp_path, [("s3://r/a.jsonl", capture_file("white", 400, seed=7))])
    assert outputs.drift.summary.dataset_drift is False


def test_too_few_rows_give_a_report_but_no_verdict(baseline_dir: Path, tmp_path: Path) -> None:
    outputs = check(baseline_dir, tmp_path, [("s3://r/a.jsonl", capture_file("red", 20))], min_rows=100)
    assert outputs.drift.summary.sufficient is False
    assert outputs.drift.summary.dataset_drift is None
    assert outputs.drift.result is not None and not outputs.drift.verdict


def test_unparseable_records_and_files_are_quarantined_with_reasons(
    baseline_dir: Path, tmp_path: Path
) -> None:
    body = (
        capture_file("white", 150)
        + b"\nnot json\n"
        + capture_record([1, 2], inference_id="x", event_id="x", time=datetime(2026, 1, 1)).encode()
    )
    outputs = check(
        baseline_dir,
        tmp_path,
        [("s3://r/k/a.jsonl", body), ("s3://r/k/b.jsonl", b"\xff\xfe"), ("s3://r/k/c.csv", b"1,2,3")],
    )
    summary = outputs.drift.summary
    assert summary.rows == 150 and summary.unparseable_records == 4
    assert summary.rejection_reasons == {
        "not-json": 1,
        "wrong-value-count": 1,
        "not-utf8": 1,
        "not-a-capture-file": 1,
    }
    notes = [json.loads(line) for line in (tmp_path / "quarantine" / REJECTED_JSONL).read_text().splitlines()]
    assert {(n["source"], n["line"], n["category"]) for n in notes} == {
        ("s3://r/k/a.jsonl", 151, "not-json"),
        ("s3://r/k/a.jsonl", 152, "wrong-value-count"),
        ("s3://r/k/b.jsonl", 0, "not-utf8"),
        ("s3://r/k/c.csv", 0, "not-a-capture-file"),
    }
    assert all(n["reason"] for n in notes)
    kept = sorted(p.relative_to(tmp_path / "quarantine").as_posix() for p in outputs.quarantined[1:])
    assert kept == ["files/k/b.jsonl", "files/k/c.csv"]
    assert (tmp_path / "quarantine" / "files" / "k" / "b.jsonl").read_bytes() == b"\xff\xfe"


def test_feature_order_comes_from_the_preprocess_manifest(baseline_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "preprocess.json").write_text(json.dumps({"features": ["alcohol", "ph"]}))
    assert model_feature_order(tmp_path, CONTRACT) == ["alcohol", "ph"]
    assert model_feature_order(tmp_path / "missing", CONTRACT) == features(CONTRACT)


def test_the_processing_job_entry_point(baseline_dir: Path, tmp_path: Path) -> None:
    capture = tmp_path / "capture" / "2026" / "01" / "01" / "00"
    capture.mkdir(parents=True)
    (capture / "a.jsonl").write_bytes(capture_file("red", 200))
    options = {
        "--baseline": str(baseline_dir),
        "--capture": str(tmp_path / "capture"),
        "--output": str(tmp_path / "out"),
        "--quarantine": str(tmp_path / "q"),
        "--contract": "wine_quality",
        "--max-feature-psi": "0.2",
        "--ks-p-value": "0.01",
        "--max-drifted-feature-share": "0.25",
        "--min-rows": "100",
        "--capture-label": "s3://reports/data-capture/ep/live",
    }

    def argv(**changes: str) -> list[str]:
        merged = options | {f"--{k.replace('_', '-')}": v for k, v in changes.items()}
        return [part for item in merged.items() for part in item]

    assert drift_job.main(argv()) == 0
    summary = json.loads((tmp_path / "out" / "capture_summary.json").read_text())
    assert summary["dataset_drift"] is True and summary["files"] == 1
    assert summary["capture"] == "s3://reports/data-capture/ep/live"
    assert drift_job.main(argv(contract="nope")) == 2
    assert drift_job.main(argv(baseline=str(tmp_path / "none"))) == 1
