"""The local scenario behind `make local`: Keel's production loop, narrated, on the local AWS.

White-wine data lands → the deployed pipeline runs through the local runner (validate, preprocess, train,
evaluate, drift) → the model is registered → the policy gate checks it (env local auto-approves) and the
lineage pack is written; a corrupted batch lands → validation stops it and its rows are
quarantined; a red-wine batch arrives → drift against the training baseline is measured. A report folder
keeps the lineage record of each execution and the drift report (JSON + HTML with plots).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.config import PROJECT_ROOT, EnvironmentConfig
from keel.lineage.record import Trigger, to_json
from keel.runner.local_run import LocalRun, land_file, run_training
from keel.runner.s3io import download, list_objects

DATA = PROJECT_ROOT / "data" / "wine-quality"
Say = Callable[[str], None]


@dataclass
class ScenarioSummary:
    executions: list[dict[str, Any]] = field(default_factory=list)
    drift: dict[str, Any] | None = None
    gate: dict[str, Any] | None = None
    report_dir: str = ""


def corrupted_batch(source: Path, target: Path, rows: int = 300) -> Path:
    """A batch with typical upstream breakage: a text value in a numeric column, an impossible value."""
    lines = source.read_text(encoding="utf-8").splitlines()
    batch = [lines[0], *lines[1 : rows + 1]]
    fields = batch[3].split(",")
    fields[0] = "n/a"
    batch[3] = ",".join(fields)
    fields = batch[9].split(",")
    fields[10] = "96.5"  # alcohol % vol
    batch[9] = ",".join(fields)
    target.write_text("\n".join(batch) + "\n", encoding="utf-8")
    return target


def _train(config: EnvironmentConfig, s3: Any, sagemaker: Any, data: Path, reason: str, say: Say) -> LocalRun:
    uri, version = land_file(s3, config, data)
    say(f"  landed {data.name} → {uri} (version {version})")

    def progress(step: str, status: str, detail: str) -> None:
        if status != "Executing":
            say(f"    {step:18s} {status:10s} {detail[:110]}")

    return run_training(
        config,
        sagemaker=sagemaker,
        s3=s3,
        data_uri=uri,
        data_version=version,
        trigger=Trigger(reason=reason, source="s3-event", details={"object": uri, "version_id": version}),
        progress=progress,
    )


def run_scenario(
    config: EnvironmentConfig, *, s3: Any, sagemaker: Any, kms: Any, report_dir: Path, say: Say
) -> ScenarioSummary:
    summary = ScenarioSummary(report_dir=str(report_dir))
    report_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="keel-scenario-") as scratch:
        work = Path(scratch)
        say("1. White-wine data lands in the raw bucket → the training pipeline runs")
        white = _train(
            config, s3, sagemaker, DATA / "winequality-white.csv", "new white-wine data landed", say
        )
        _record(summary, white, report_dir, "white")
        if white.result.model_package_arn:
            say("   → the policy gate evaluates the new version")
            summary.gate = _gate(
                config,
                white.result.model_package_arn,
                s3=s3,
                sagemaker=sagemaker,
                kms=kms,
                report_dir=report_dir,
                say=say,
            )

        say("2. A corrupted batch lands → validation stops it, its rows are quarantined")
        corrupted = _train(
            config,
            s3,
            sagemaker,
            corrupted_batch(DATA / "winequality-white.csv", work / "corrupted-batch.csv"),
            "new batch landed",
            say,
        )
        _record(summary, corrupted, report_dir, "corrupted")

        say("3. A red-wine batch arrives → drift against the training baseline")
        baseline_uri = white.record.reports.get("Preprocess.baseline")
        if white.result.status == "Succeeded" and baseline_uri:
            baseline_dir = work / "baseline"
            download(s3, list_objects(s3, baseline_uri), baseline_uri, baseline_dir)
            summary.drift = _measure_drift(
                config, baseline_dir, DATA / "winequality-red.csv", report_dir / "drift-red-vs-white", say
            )
        else:
            say("  skipped: the white-wine run produced no baseline")
    (report_dir / "summary.json").write_text(json.dumps(summary.__dict__, indent=2) + "\n", encoding="utf-8")
    return summary


def _record(summary: ScenarioSummary, run: LocalRun, report_dir: Path, label: str) -> None:
    result, record = run.result, run.record
    (report_dir / f"lineage-{label}-{result.execution_id}.json").write_text(to_json(record), encoding="utf-8")
    accuracy = (record.metrics or {}).get("multiclass_classification_metrics", {}).get("accuracy", {})
    summary.executions.append(
        {
            "label": label,
            "execution_id": result.execution_id,
            "status": result.status,
            "failure_reason": result.failure_reason,
            "validation_passed": (record.validation or {}).get("success"),
            "quarantined_rows": (record.validation or {}).get("quarantined_rows"),
            "accuracy": accuracy.get("value"),
            "model_package_arn": result.model_package_arn,
            "lineage_record": run.record_uri,
        }
    )


def _measure_drift(
    config: EnvironmentConfig, baseline: Path, data: Path, out: Path, say: Say
) -> dict[str, Any]:
    from pipeline_steps import drift

    shutil.rmtree(out, ignore_errors=True)
    thresholds = config.thresholds
    code = drift.main(
        [
            "--baseline",
            str(baseline),
            "--input",
            str(data),
            "--output",
            str(out),
            "--max-feature-psi",
            str(thresholds.max_feature_psi),
            "--ks-p-value",
            str(thresholds.ks_p_value),
            "--max-drifted-feature-share",
            str(thresholds.max_drifted_feature_share),
        ]
    )
    report = json.loads((out / "drift_report.json").read_text(encoding="utf-8"))
    say(
        f"  dataset drift: {report['dataset_drift']} ({len(report['drifted_features'])} of "
        f"{len(report['features'])} features drifted); report: {out / 'drift_report.html'}"
    )
    return {
        "exit_code": code,
        "dataset_drift": report["dataset_drift"],
        "drifted_features": report["drifted_features"],
        "drifted_share": report["drifted_share"],
        "html": str(out / "drift_report.html"),
    }


def _gate(
    config: EnvironmentConfig, arn: str, *, s3: Any, sagemaker: Any, kms: Any, report_dir: Path, say: Say
) -> dict[str, Any]:
    from keel.commands.lineage import write_pack
    from keel.gate.local import gate_registered_model
    from keel.gate.settings import GovernanceSettings
    from keel.lineage.pack import PackSources, build_pack

    outcome = gate_registered_model(config, arn, sagemaker=sagemaker, s3=s3, kms=kms)
    say(f"  gate decision: {outcome.decision} — {outcome.message[:120]}")
    say(f"  evidence: {outcome.evidence_uri}")
    pack = build_pack(PackSources(GovernanceSettings.from_config(config), sagemaker, s3), arn)
    json_path, html_path = write_pack(pack, report_dir / f"lineage-pack-{arn.rsplit('/', 1)[-1]}")
    say(f"  lineage pack: {html_path}")
    return {
        "decision": str(outcome.decision),
        "message": outcome.message,
        "evidence": outcome.evidence_uri,
        "lineage_pack": str(json_path),
    }
