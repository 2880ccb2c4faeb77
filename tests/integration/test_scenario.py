"""The `make local` scenario on moto: white wine trains and registers, a corrupted batch stops at validation
with its rows quarantined, a red-wine batch drifts; the report folder holds the lineage and drift reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from keel.lineage.record import LineageRecord
from keel.scenario import run_scenario
from tests.integration.test_local_runner import account  # noqa: F401 - the shared moto account fixture

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("runner")]


def test_scenario_outcomes_and_report_folder(account: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    lines: list[str] = []
    kms = boto3.client("kms", region_name=account["config"].region)
    summary = run_scenario(
        account["config"],
        s3=account["s3"],
        sagemaker=account["sagemaker"],
        kms=kms,
        report_dir=tmp_path / "report",
        say=lines.append,
    )
    white, corrupted = summary.executions
    assert white["status"] == "Succeeded" and white["model_package_arn"]
    assert white["validation_passed"] is True and white["accuracy"] >= 0.5
    assert corrupted["status"] == "Failed" and corrupted["failure_reason"].startswith("CombineValidation")
    assert corrupted["validation_passed"] is False and corrupted["quarantined_rows"] == 2
    assert summary.gate and "Approved" in summary.gate["decision"], summary.gate
    package = account["sagemaker"].describe_model_package(ModelPackageName=white["model_package_arn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert summary.drift and summary.drift["dataset_drift"] is True
    assert {"residual_sugar", "total_sulfur_dioxide"} <= set(summary.drift["drifted_features"])
    report = tmp_path / "report"
    records = sorted(report.glob("lineage-*.json"))
    assert len(records) == 2
    for path in records:
        LineageRecord.model_validate_json(path.read_text())
    assert list(report.glob("lineage-pack-*/*.html"))
    assert "<svg" in (report / "drift-red-vs-white" / "drift_report.html").read_text()
    assert json.loads((report / "summary.json").read_text())["executions"][0]["label"] == "white"
    assert any(line.startswith("3. A red-wine batch arrives") for line in lines)
