"""`keel gate` and `keel lineage` on moto (env local: its account and region are moto's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from keel.cli import main
from tests.unit.gate.faults import failing
from tests.unit.gate.world import World

SESSION = boto3.session.Session(region_name="us-east-1")  # one session: its service models stay loaded


@pytest.fixture(autouse=True)
def _moto_session(monkeypatch: pytest.MonkeyPatch) -> None:
    def session(config: Any, endpoint_url: str | None) -> tuple[Any, None]:
        return SESSION, None

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr("keel.commands.gate._session", session)
    monkeypatch.setattr("keel.commands.lineage._session", session)


def test_keel_gate_decides_and_reports(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = world.train(), world.train(accuracy=0.2)
    assert main(["gate", "1", "--env", "local"]) == 0
    out = capsys.readouterr().out
    assert "decided: Approved" in out and "evidence: s3://" in out and "metrics.accuracy-threshold" in out
    assert main(["gate", bad.model_package_arn]) == 1
    assert "Rejected" in capsys.readouterr().out
    assert world.status(good.model_package_arn) == "Approved"


def test_keel_gate_dry_run_changes_nothing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    run = world.train()
    assert main(["gate", run.model_package_arn, "--dry-run", "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["action"] == "dry-run" and outcome["decision"] == "Approved"
    assert outcome["evidence"]["dry_run"] is True and outcome["evidence"]["actor"]["source"] == "cli"
    assert world.evidence_keys() == [] and world.status(run.model_package_arn) == "PendingManualApproval"


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        (
            "99",
            "unknown model package arn:aws:sagemaker:us-east-1:123456789012:model-package/keel-local-models/99",  # noqa: E501
        ),
        (
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/other/1",
            "is foreign: its group is 'other'",
        ),
        ("0", "model package version must be >= 1"),
        ("models/1", "is not a versioned model package ARN"),
    ],
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_keel_gate_bad_reference_is_one_line_exit_2_and_writes_nothing(
    world: World, capsys: pytest.CaptureFixture[str], reference: str, problem: str, dry_run: bool
) -> None:
    run = world.train()
    before = world.evidence_keys()
    assert main(["gate", reference, *(["--dry-run"] if dry_run else [])]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("keel gate: error: ") and problem in line
    assert world.evidence_keys() == before == []
    assert world.status(str(run.model_package_arn)) == "PendingManualApproval"


def test_keel_lineage_writes_json_and_html(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = world.train()
    main(["gate", "1"])
    capsys.readouterr()
    assert main(["lineage", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tracking: failed (not implemented by the endpoint Keel called" in out
    pack = json.loads((tmp_path / "keel-local-models-v1.lineage.json").read_text())
    assert pack["schema_version"] == 2 and pack["model_package"]["arn"] == run.model_package_arn
    assert pack["tracking"]["status"] == "failed"
    assert "<!doctype html>" in (tmp_path / "keel-local-models-v1.lineage.html").read_text()


def test_keel_lineage_dataset_answers_the_reverse_question(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    run = world.train()
    assert main(["lineage", "--dataset", run.input_uri]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [m["model_package_arn"] for m in answer["model_versions"]] == [run.model_package_arn]


def test_keel_lineage_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lineage"]) == 2
    assert "give either" in capsys.readouterr().err
    assert main(["lineage", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "LineagePack"


def test_keel_gate_retry_later_is_exit_3_and_writes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = world.train()
    monkeypatch.setattr("keel.commands.gate.build_deps", lambda config, endpoint: world.deps())
    with failing(world.sagemaker, "DescribeModelPackage", code="ServiceUnavailable", status=503):
        assert main(["gate", "1"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("not ready: DescribeModelPackage") and "ServiceUnavailable" in out
    assert world.evidence_keys() == [] and world.status(str(run.model_package_arn)) == "PendingManualApproval"


def test_keel_gate_denied_is_one_line_exit_4_and_writes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.train()
    monkeypatch.setattr("keel.commands.gate.build_deps", lambda config, endpoint: world.deps())
    with failing(
        world.sagemaker, "DescribeModelPackage", code="AccessDeniedException", status=400, message="no"
    ):
        assert main(["gate", "1"]) == 4
    [line] = capsys.readouterr().err.splitlines()
    assert line == "keel gate: error: DescribeModelPackage: AccessDeniedException: no"
    assert world.evidence_keys() == []
