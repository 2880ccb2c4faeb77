"""Training step: fit a scikit-learn classifier of the contract's target on the train split.

Training-job contract (every path overridable):
  --train            $SM_CHANNEL_TRAIN        (/opt/ml/input/data/train)       train.csv from preprocess
  --validation       $SM_CHANNEL_VALIDATION   (/opt/ml/input/data/validation)  validation.csv
  --model-dir        $SM_MODEL_DIR            (/opt/ml/model)                  model.joblib, model_card.json
  --output-data-dir  $SM_OUTPUT_DATA_DIR      (/opt/ml/output/data)            training_metrics.json
Hyperparameters: /opt/ml/input/config/hyperparameters.json, then command-line flags (either spelling:
--n-estimators or --n_estimators); keys SageMaker adds itself (sagemaker_*) are ignored.
Metrics are also printed as "train:accuracy=0.98" lines for SageMaker metric definitions.
Exit status: 0 done, 1 unusable data, 2 bad arguments or contract.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score

from keel.contract import DEFAULT_CONTRACT, ContractError, load_contract
from keel.quality.reading import DataFileError
from pipeline_steps.container import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    HYPERPARAMETERS_JSON,
    SM_CHANNEL_TRAIN,
    SM_CHANNEL_VALIDATION,
    SM_MODEL_DIR,
    SM_OUTPUT_DATA_DIR,
    HyperparametersError,
    configure_logging,
    container_path,
    env_path,
    hyperparameter_argv,
    read_hyperparameters,
    report_failure,
    write_json,
)
from pipeline_steps.dataset import model_features, read_split
from pipeline_steps.model import (
    ALGORITHMS,
    CARD_FILE,
    MODEL_FILE,
    Hyperparameters,
    build_estimator,
    model_card,
)

METRICS_JSON = "training_metrics.json"
_DEFAULTS = Hyperparameters()


def _optional_int(text: str) -> int | None:
    return None if text.strip().lower() in ("", "none", "null", "0") else int(text)


def _hp(parser: argparse.ArgumentParser, name: str, **kwargs: object) -> None:
    # Both spellings: the SageMaker training toolkit passes hyperparameters as --key value verbatim.
    flags = {f"--{name.replace('_', '-')}", f"--{name}"}
    parser.add_argument(*sorted(flags), dest=name, default=getattr(_DEFAULTS, name), **kwargs)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="train", description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=env_path(SM_CHANNEL_TRAIN))
    parser.add_argument("--validation", type=Path, default=env_path(SM_CHANNEL_VALIDATION))
    parser.add_argument("--model-dir", type=Path, default=env_path(SM_MODEL_DIR))
    parser.add_argument("--output-data-dir", type=Path, default=env_path(SM_OUTPUT_DATA_DIR))
    parser.add_argument("--hyperparameters-file", type=Path, default=container_path(HYPERPARAMETERS_JSON))
    parser.add_argument("--contract", default=DEFAULT_CONTRACT, help="contract name or path")
    _hp(parser, "algorithm", choices=ALGORITHMS)
    _hp(parser, "n_estimators", type=int)
    _hp(parser, "max_depth", type=_optional_int, help="0 or none: unlimited")
    _hp(parser, "min_samples_leaf", type=_optional_int)
    _hp(parser, "max_features")
    _hp(parser, "learning_rate", type=float)
    _hp(parser, "max_iter", type=int)
    _hp(parser, "class_weight", choices=("none", "balanced"))
    _hp(parser, "random_state", type=int)
    _hp(parser, "n_jobs", type=int)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Hyperparameters from the file first, the command line over them (argparse keeps the last value)."""
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    paths, _ = parser.parse_known_args(given)
    known = {action.dest for action in parser._actions}
    from_file = {
        k: v
        for k, v in read_hyperparameters(paths.hyperparameters_file).items()
        if k.replace("-", "_") in known and not k.startswith("sagemaker_")
    }
    return parser.parse_args(hyperparameter_argv(from_file) + given)


def hyperparameters_from(args: argparse.Namespace) -> Hyperparameters:
    return Hyperparameters(**{name: getattr(args, name) for name in Hyperparameters.__dataclass_fields__})


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except HyperparametersError as error:  # the job's FailureReason names the file and the problem
        report_failure("train", str(error))
        return EXIT_USAGE
    log = configure_logging()
    try:
        contract = load_contract(args.contract)
    except ContractError as error:
        print(f"train: {error}", file=sys.stderr)
        return EXIT_USAGE
    features, target = model_features(contract), contract.target
    try:
        train = read_split(args.train, contract, [*features, target])
        validation = (
            read_split(args.validation, contract, [*features, target]) if args.validation.exists() else None
        )
    except DataFileError as error:
        print(f"train: {error}", file=sys.stderr)
        return EXIT_FAILED
    hp = hyperparameters_from(args)
    estimator = build_estimator(hp)
    estimator.fit(_matrix(train, features), train[target].to_numpy())
    metrics = {
        "train_rows": len(train),
        "train_accuracy": float(accuracy_score(train[target], estimator.predict(_matrix(train, features)))),
    }
    if validation is not None and len(validation):
        predicted = estimator.predict(_matrix(validation, features))
        metrics |= {
            "validation_rows": len(validation),
            "validation_accuracy": float(accuracy_score(validation[target], predicted)),
        }
    args.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, args.model_dir / MODEL_FILE)
    card = model_card(
        estimator=estimator,
        hp=hp,
        contract_name=contract.name,
        contract_version=contract.version,
        features=features,
        target=target,
        metrics=metrics,
    )
    write_json(args.model_dir / CARD_FILE, card)
    write_json(args.output_data_dir / METRICS_JSON, metrics)
    for name in ("train", "validation"):
        if f"{name}_accuracy" in metrics:
            print(f"{name}:accuracy={metrics[f'{name}_accuracy']:.6f}")
    log.info("trained %s on %d rows", card["estimator"], len(train))
    return EXIT_OK


def _matrix(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    # Booleans and nullable integers become float64 (NaN for missing): both estimators accept NaN.
    return frame[features].to_numpy(dtype=np.float64, na_value=np.nan)


if __name__ == "__main__":
    sys.exit(main())
