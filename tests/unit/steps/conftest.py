"""A preprocessed tiny dataset, built once per module for the train/evaluate/drift step tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_steps import preprocess
from tests.unit.steps.wine_data import wine_rows, write_csv


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Root with train/, validation/, test/, baseline/ from 600 real white-wine rows."""
    root = tmp_path_factory.mktemp("prepared")
    source = write_csv(root / "raw" / "white.csv", wine_rows(n=600, seed=11))
    code = preprocess.main(
        [
            "--input",
            str(source),
            "--train-dir",
            str(root / "train"),
            "--validation-dir",
            str(root / "validation"),
            "--test-dir",
            str(root / "test"),
            "--baseline-dir",
            str(root / "baseline"),
        ]
    )
    assert code == 0
    return root
