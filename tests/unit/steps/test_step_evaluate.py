"""The evaluate step: model.tar.gz in, Model Monitor-format evaluation.json out; the metrics themselves."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from pipeline_steps import evaluate, train
from pipeline_steps.metrics import confusion_matrix, multiclass_classification_metrics
from tests.unit.steps.wine_data import digest


@pytest.fixture(scope="module")
def model_input(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A processing input directory holding model.tar.gz, as SageMaker stores a training job's output."""
    root = tmp_path_factory.mktemp("model")
    code = train.main(
        [
            "--train",
            str(prepared / "train"),
            "--validation",
            str(prepared / "validation"),
            "--model-dir",
            str(root / "model"),
            "--output-data-dir",
            str(root / "data"),
            "--hyperparameters-file",
            str(root / "none.json"),
            "--n-estimators",
            "20",
            "--n-jobs",
            "1",
        ]
    )
    assert code == 0
    (root / "input").mkdir()
    with tarfile.open(root / "input" / "model.tar.gz", "w:gz") as archive:
        for file in (root / "model").iterdir():
            archive.add(file, arcname=file.name)
    return root / "input"


def test_writes_evaluation_json_readable_by_jsonget(
    prepared: Path, model_input: Path, tmp_path: Path
) -> None:
    before = digest(model_input)
    code = evaluate.main(
        ["--model", str(model_input), "--test", str(prepared / "test"), "--output", str(tmp_path)]
    )
    assert code == 0
    document = json.loads((tmp_path / "evaluation.json").read_text())
    metrics = document["multiclass_classification_metrics"]
    accuracy = metrics[
        "accuracy"
    ]  # the pipeline's JsonGet path: multiclass_classification_metrics.accuracy.value
    assert 0.3 < accuracy["value"] <= 1 and isinstance(accuracy["standard_deviation"], str | float)
    assert {
        "weighted_f1",
        "weighted_precision",
        "weighted_recall",
        "accuracy_best_constant_classifier",
    } <= set(metrics)
    matrix = metrics["confusion_matrix"]
    assert sum(sum(row.values()) for row in matrix.values()) == document["dataset"]["item_count"]
    assert document["keel"]["contract"]["name"] == "wine_quality"
    assert digest(model_input) == before  # the tarball is extracted elsewhere


def test_accepts_an_extracted_model_directory(prepared: Path, model_input: Path, tmp_path: Path) -> None:
    with tarfile.open(model_input / "model.tar.gz") as archive:
        archive.extractall(tmp_path / "model", filter="data")
    code = evaluate.main(
        [
            "--model",
            str(tmp_path / "model"),
            "--test",
            str(prepared / "test"),
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0


def test_missing_model_fails(prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = evaluate.main(
        ["--model", str(tmp_path), "--test", str(prepared / "test"), "--output", str(tmp_path)]
    )
    assert code == 1 and "cannot load the model" in capsys.readouterr().err


def test_confusion_matrix_is_actual_then_predicted() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert matrix == {"0": {"0": 1, "1": 1}, "1": {"0": 0, "1": 2}}


def test_standard_deviation_needs_200_rows() -> None:
    small = multiclass_classification_metrics(np.array([5, 6, 6]), np.array([5, 6, 5]))
    assert small["accuracy"] == {"value": pytest.approx(2 / 3), "standard_deviation": "NaN"}
    assert small["accuracy_best_constant_classifier"]["value"] == pytest.approx(2 / 3)
    rng = np.random.default_rng(0)
    y = rng.integers(3, 9, 400)
    predicted = np.where(rng.random(400) < 0.6, y, 6)
    large = multiclass_classification_metrics(y, predicted, seed=1)
    assert isinstance(large["weighted_f1"]["standard_deviation"], float)
    assert large == multiclass_classification_metrics(y, predicted, seed=1)  # seeded subsamples
