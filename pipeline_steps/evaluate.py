"""Evaluation step: score the trained model on the test split; write evaluation.json.

Processing-job contract (every path overridable):
  --model   /opt/ml/processing/input/model        model.tar.gz (as SageMaker stores it) or its contents
  --test    /opt/ml/processing/input/test         test.csv from preprocess
  --output  /opt/ml/processing/output/evaluation  evaluation.json
evaluation.json follows the Model Monitor model-quality format, so a pipeline PropertyFile + JsonGet can
read "multiclass_classification_metrics.accuracy.value", and a model package can show it as-is.
Exit status: 0 done, 1 unusable model or data, 2 bad arguments or contract.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from keel.contract import ContractError, load_contract
from keel.quality.reading import DataFileError
from pipeline_steps.container import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    configure_logging,
    processing_input,
    processing_output,
    write_json,
)
from pipeline_steps.dataset import read_split
from pipeline_steps.metrics import multiclass_classification_metrics
from pipeline_steps.model import CARD_FILE, load_model, model_directory

EVALUATION_JSON = "evaluation.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=processing_input("model"))
    parser.add_argument("--test", type=Path, default=processing_input("test"))
    parser.add_argument("--output", type=Path, default=processing_output("evaluation"))
    parser.add_argument("--contract", help="contract name or path (default: the one in the model card)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the standard-deviation subsamples")
    return parser


def evaluation_document(
    card: dict[str, Any], y_true: np.ndarray, y_pred: np.ndarray, seed: int
) -> dict[str, Any]:
    return {
        "version": 0.0,
        "dataset": {
            "item_count": len(y_true),
            "evaluation_time": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "multiclass_classification_metrics": multiclass_classification_metrics(y_true, y_pred, seed=seed),
        "keel": {
            "estimator": card.get("estimator"),
            "contract": card.get("contract"),
            "target": card.get("target"),
            "features": card.get("features"),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = configure_logging()
    try:
        with model_directory(args.model) as directory:
            card = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
            model = load_model(directory)
    except (OSError, ValueError) as error:
        print(f"evaluate: cannot load the model from {args.model}: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        contract = load_contract(args.contract or card["contract"]["name"])
    except ContractError as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return EXIT_USAGE
    if contract.version != card["contract"]["version"]:
        log.warning(
            "model trained on contract %s, evaluating with %s", card["contract"]["version"], contract.version
        )
    features, target = list(card["features"]), str(card["target"])
    try:
        test = read_split(args.test, contract, [*features, target])
        y_pred = model.predict(test[features].to_numpy(dtype=np.float64, na_value=np.nan))
        document = evaluation_document(card, test[target].to_numpy(), y_pred, args.seed)
    except (DataFileError, ValueError) as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return EXIT_FAILED
    write_json(args.output / EVALUATION_JSON, document)
    accuracy = document["multiclass_classification_metrics"]["accuracy"]["value"]
    print(f"test:accuracy={accuracy:.6f}")
    log.info("evaluated %d rows", len(test))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
