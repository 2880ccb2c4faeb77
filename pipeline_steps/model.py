"""The model: hyperparameters, the scikit-learn estimator they build, and its artifacts (model + card).

Artifacts in SM_MODEL_DIR (tarred by SageMaker into model.tar.gz): `model.joblib` and `model_card.json`.
"""

from __future__ import annotations

import platform
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import joblib
import sklearn
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"
MODEL_TARBALL = "model.tar.gz"

Algorithm = Literal["random_forest", "hist_gradient_boosting"]
ALGORITHMS: tuple[Algorithm, ...] = ("random_forest", "hist_gradient_boosting")


@dataclass(frozen=True)
class Hyperparameters:
    algorithm: Algorithm = "random_forest"
    n_estimators: int = 300  # random_forest
    max_depth: int | None = None
    min_samples_leaf: int | None = None  # None: the estimator's default (1 for the forest, 20 for HGB)
    max_features: str = "sqrt"  # random_forest; "sqrt", "log2" or a fraction such as "0.5"
    learning_rate: float = 0.1  # hist_gradient_boosting
    max_iter: int = 300  # hist_gradient_boosting
    class_weight: Literal["none", "balanced"] = "none"
    random_state: int = 42
    n_jobs: int = -1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_estimator(hp: Hyperparameters) -> ClassifierMixin:
    class_weight = None if hp.class_weight == "none" else hp.class_weight
    if hp.algorithm == "random_forest":
        max_features: str | float = hp.max_features
        if hp.max_features not in ("sqrt", "log2"):
            max_features = float(hp.max_features)
        return RandomForestClassifier(
            n_estimators=hp.n_estimators,
            max_depth=hp.max_depth,
            min_samples_leaf=hp.min_samples_leaf or 1,
            max_features=max_features,
            class_weight=class_weight,
            random_state=hp.random_state,
            n_jobs=hp.n_jobs,
        )
    return HistGradientBoostingClassifier(
        learning_rate=hp.learning_rate,
        max_iter=hp.max_iter,
        max_depth=hp.max_depth,
        min_samples_leaf=hp.min_samples_leaf or 20,
        class_weight=class_weight,
        random_state=hp.random_state,
        early_stopping=False,  # the validation channel is the held-out set; no hidden internal split
    )


def model_card(
    *,
    estimator: Any,
    hp: Hyperparameters,
    contract_name: str,
    contract_version: str,
    features: list[str],
    target: str,
    metrics: dict[str, Any],
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "model_file": MODEL_FILE,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "estimator": type(estimator).__name__,
        "hyperparameters": hp.as_dict(),
        "contract": {"name": contract_name, "version": contract_version},
        "features": features,
        "target": target,
        "classes": [_plain(c) for c in getattr(estimator, "classes_", [])],
        "metrics": metrics,
        "runtime": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


@contextmanager
def model_directory(source: Path) -> Iterator[Path]:
    """A directory holding model.joblib + model_card.json, from a directory, a model.tar.gz, or a
    directory containing model.tar.gz (the processing input of a trained model). Input is never modified."""
    tarball = source if source.is_file() else source / MODEL_TARBALL
    if (source / CARD_FILE).is_file() or not tarball.is_file():
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="keel-model-") as scratch, tarfile.open(tarball) as archive:
        archive.extractall(scratch, filter="data")  # "data" refuses absolute paths and links out of the tree
        yield Path(scratch)


def load_model(directory: Path) -> Any:
    return joblib.load(directory / MODEL_FILE)
