"""The train step: hyperparameters from SageMaker's file and the command line, artifacts, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import joblib
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from pipeline_steps import train
from pipeline_steps.container import (
    EXIT_USAGE,
    hyperparameter_argv,
    read_hyperparameters,
)
from pipeline_steps.model import Hyperparameters, build_estimator


def run(prepared: Path, out: Path, *extra: str) -> int:
    return train.main(
        [
            "--train",
            str(prepared / "train"),
            "--validation",
            str(prepared / "validation"),
            "--model-dir",
            str(out / "model"),
            "--output-data-dir",
            str(out / "data"),
            "--hyperparameters-file",
            str(out / "absent.json"),
            "--n-estimators",
            "10",
            "--n-jobs",
            "1",
            *extra,
        ]
    )


def test_trains_and_writes_model_card_and_metrics(
    prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(prepared, tmp_path) == 0
    card = json.loads((tmp_path / "model" / "model_card.json").read_text())
    assert card["estimator"] == "RandomForestClassifier" and card["target"] == "quality"
    assert card["contract"] == {"name": "wine_quality", "version": "1.0.0"}
    assert card["features"][0] == "fixed_acidity" and len(card["features"]) == 11
    assert card["hyperparameters"]["n_estimators"] == 10 and set(card["classes"]) <= set(range(11))
    model = joblib.load(tmp_path / "model" / "model.joblib")
    assert list(model.classes_) == card["classes"]
    metrics = json.loads((tmp_path / "data" / "training_metrics.json").read_text())
    assert 0.3 < metrics["validation_accuracy"] <= 1 and metrics["validation_rows"] > 0
    assert "validation:accuracy=" in capsys.readouterr().out


def test_hyperparameters_file_then_command_line(prepared: Path, tmp_path: Path) -> None:
    # SageMaker writes every value as a string, JSON-encoded by some SDKs; its own keys are ignored.
    hp_file = tmp_path / "hyperparameters.json"
    hp_file.write_text(
        json.dumps(
            {
                "n_estimators": "9",
                "max_depth": '"4"',
                "class_weight": "balanced",
                "n_jobs": "1",
                "sagemaker_program": "train.py",
                "contract": "wine_quality",
            }
        )
    )
    code = train.main(
        [
            "--train",
            str(prepared / "train"),
            "--validation",
            str(prepared / "validation"),
            "--model-dir",
            str(tmp_path / "model"),
            "--output-data-dir",
            str(tmp_path / "data"),
            "--hyperparameters-file",
            str(hp_file),
            "--n_estimators",
            "6",
        ]
    )
    assert code == 0
    hp = json.loads((tmp_path / "model" / "model_card.json").read_text())["hyperparameters"]
    assert hp["max_depth"] == 4 and hp["class_weight"] == "balanced"
    assert hp["n_estimators"] == 6  # the command line wins
    model = joblib.load(tmp_path / "model" / "model.joblib")
    assert len(model.estimators_) == 6 and model.max_depth == 4


def test_gradient_boosting_is_configured_from_hyperparameters() -> None:
    estimator = build_estimator(
        Hyperparameters(algorithm="hist_gradient_boosting", max_iter=40, learning_rate=0.2)
    )
    assert isinstance(estimator, HistGradientBoostingClassifier)
    assert estimator.max_iter == 40 and estimator.learning_rate == 0.2 and estimator.min_samples_leaf == 20
    assert estimator.early_stopping is False


def test_hyperparameter_helpers(tmp_path: Path) -> None:
    path = tmp_path / "hp.json"
    path.write_text(json.dumps({"n_estimators": "300", "name": '"x"', "none": None}))
    assert read_hyperparameters(path) == {"n_estimators": "300", "name": "x", "none": ""}
    assert read_hyperparameters(tmp_path / "missing.json") == {}
    assert hyperparameter_argv({"max_depth": "4"}) == ["--max-depth", "4"]


def test_missing_training_data_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "train").mkdir()
    assert run(tmp_path, tmp_path) == 1
    assert "no data files" in capsys.readouterr().err


def test_bad_hyperparameter_is_a_usage_error(prepared: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(prepared, tmp_path, "--algorithm", "svm")
    assert exit_info.value.code == 2


def test_runs_as_a_training_job_without_arguments(
    prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `IMAGE train`: channels and model dir from SM_* variables, hyperparameters from the container's file.
    config = tmp_path / "opt/ml/input/config/hyperparameters.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"n_estimators": "7", "n_jobs": "1", "contract": "wine_quality"}))
    monkeypatch.setenv("KEEL_CONTAINER_ROOT", str(tmp_path))
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(prepared / "train"))
    monkeypatch.setenv("SM_CHANNEL_VALIDATION", str(prepared / "validation"))
    assert train.main([]) == 0
    card = json.loads((tmp_path / "opt/ml/model/model_card.json").read_text())
    assert card["hyperparameters"]["n_estimators"] == 7
    assert (tmp_path / "opt/ml/output/data/training_metrics.json").is_file()


def test_a_corrupt_hyperparameters_file_fails_training_instead_of_using_defaults(
    prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hp_file = tmp_path / "hyperparameters.json"
    hp_file.write_text('{"n_estimators": "9", "max_depth": ')
    assert run(prepared, tmp_path, "--hyperparameters-file", str(hp_file)) == EXIT_USAGE
    assert f"{hp_file}: not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "model").exists()


def test_a_training_job_with_a_corrupt_hyperparameters_file_fails_with_the_reason(tmp_path: Path) -> None:
    """Run as the job runs it (`IMAGE train`): non-zero exit, error output naming the file and the problem."""
    config = tmp_path / "opt/ml/input/config/hyperparameters.json"
    config.parent.mkdir(parents=True)
    config.write_text("[]")
    env = {**os.environ, "KEEL_CONTAINER_ROOT": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline_steps.train"],
        env=env,
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"{config}: expected a JSON object of hyperparameters, got list" in done.stderr
