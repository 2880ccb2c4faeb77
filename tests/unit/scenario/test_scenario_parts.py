"""The scenario's parts that need no local AWS: the in-process Lambda invoker, the report folder, the
corrupted batch and the outcome check."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest

from keel.commands.scenario import outcome_problems
from keel.config import load_environment
from keel.scenario.lambdas import FunctionNotDeployedError, LocalLambdas
from keel.scenario.story import WHITE, ReportDirError, ScenarioSummary, corrupted_batch, prepare_report_dir

CONFIG = load_environment("local")


class FakeLambdaClient:
    """GetFunctionConfiguration of one deployed function (the test handler module)."""

    class exceptions:  # noqa: N801 - boto3's shape
        class ResourceNotFoundException(Exception):  # noqa: N818 - boto3's name
            pass

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803
        if FunctionName != "keel-local-fake":
            raise self.exceptions.ResourceNotFoundException(FunctionName)
        return {
            "Handler": "tests.unit.scenario.fake_handler.lambda_handler",
            "Environment": {"Variables": {"KEEL_FAKE_SETTING": "deployed"}},
        }


def test_a_deployed_function_runs_in_its_environment_and_logs_to_its_file(tmp_path: Path) -> None:
    lambdas = LocalLambdas(CONFIG, FakeLambdaClient(), "http://127.0.0.1:1", tmp_path / "logs")
    os.environ.pop("KEEL_FAKE_SETTING", None)
    try:
        first = lambdas.invoke("fake", {"n": 1})
        second = lambdas.invoke("fake", {"n": 2})
    finally:
        lambdas.close()
    assert first == {"n": 1, "setting": "deployed", "loaded_with": "deployed"}
    assert second["n"] == 2 and lambdas.invocations == {"keel-local-fake": 2}
    assert "KEEL_FAKE_SETTING" not in os.environ  # the function's environment is not left behind
    log = (tmp_path / "logs" / "keel-local-fake.log").read_text()
    assert "handled 1 in keel-local-fake" in log and "handled 2" in log
    assert "UserWarning: a warning Lambda would log" in log


def test_a_function_that_is_not_deployed_is_named(tmp_path: Path) -> None:
    lambdas = LocalLambdas(CONFIG, FakeLambdaClient(), "http://127.0.0.1:1", tmp_path)
    with pytest.raises(FunctionNotDeployedError, match=r"keel-local-data-trigger.*keel local up"):
        lambdas.invoke("data_trigger", {})


def test_report_folder_replaces_an_earlier_report_only(tmp_path: Path) -> None:
    earlier = tmp_path / "report"
    (earlier / "lineage-pack-v1").mkdir(parents=True)
    (earlier / "summary.json").write_text("{}")
    prepare_report_dir(earlier)
    assert list(earlier.iterdir()) == []
    other = tmp_path / "home"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ReportDirError, match="holds no earlier scenario report"):
        prepare_report_dir(other)
    assert (other / "notes.txt").read_text() == "mine"


def test_the_corrupted_batch_breaks_two_rows(tmp_path: Path) -> None:
    batch = corrupted_batch(WHITE, tmp_path / "batch.csv", rows=50)
    rows = list(csv.reader(batch.open()))
    originals = list(csv.reader(WHITE.open()))[: len(rows)]
    assert len(rows) == 51 and rows[0] == originals[0]
    changed = [i for i, (row, original) in enumerate(zip(rows, originals, strict=True)) if row != original]
    assert changed == [3, 9]
    assert rows[3][0] == "n/a" and float(rows[9][10]) == 96.5


def _complete() -> ScenarioSummary:
    return ScenarioSummary(
        executions=[
            {"label": "white", "status": "Succeeded", "model_package_arn": "arn/1", "quarantined_rows": 0},
            {"label": "corrupted", "status": "Failed", "model_package_arn": None, "quarantined_rows": 2},
        ],
        deployments=[{"version": 1, "steps": ["started", "succeeded"]}],
        drift={"dataset_drift": True},
        retrain={"status": "started", "execution_id": "x"},
        alerts=[{"subject": 'ALARM: "keel-local-system-data-validation" in US East (N. Virginia)'}],
        feedback=[{"metric_accuracy": 0.9}, {"metric_accuracy": 0.6}],
    )


def test_outcome_problems_name_what_did_not_happen() -> None:
    assert outcome_problems(_complete()) == []
    summary = _complete()
    summary.retrain = {"status": "suppressed", "reason": "cool-down"}
    summary.alerts = []
    assert outcome_problems(summary) == [
        "the drift alarm did not start a retraining",
        "no data-validation alert reached the alert topic",
    ]
