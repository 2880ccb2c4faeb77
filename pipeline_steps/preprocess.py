"""Preprocess step: canonical columns, seeded (stratified) train/validation/test split, drift baseline.

Processing-job contract (every path overridable):
  --input           /opt/ml/processing/input/data         raw CSV file(s), raw or canonical headers
  --train-dir       /opt/ml/processing/output/train       train.csv
  --validation-dir  /opt/ml/processing/output/validation  validation.csv
  --test-dir        /opt/ml/processing/output/test        test.csv
  --baseline-dir    /opt/ml/processing/output/baseline    baseline.json, reference.npz, preprocess.json
Split files have a header of canonical names: the model features, then the target.
Exit status: 0 done, 1 unusable input (message names file/column), 2 bad arguments or contract.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from keel.contract import DEFAULT_CONTRACT, ContractError, DatasetContract, load_contract
from keel.drift.baseline import build_baseline, save_baseline
from keel.drift.psi import DEFAULT_BINS
from keel.quality.loading import load_frame
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
from pipeline_steps.dataset import (
    SPLITS,
    excluded_features,
    model_features,
    split_file,
    split_indices,
    stratify_on_target,
)

MANIFEST_JSON = "preprocess.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="preprocess", description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=processing_input("data"))
    for split in SPLITS:
        parser.add_argument(f"--{split}-dir", type=Path, default=processing_output(split))
    parser.add_argument("--baseline-dir", type=Path, default=processing_output("baseline"))
    parser.add_argument("--contract", default=DEFAULT_CONTRACT, help="contract name or path")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--psi-bins", type=int, default=DEFAULT_BINS)
    return parser


def prepare(frame: pd.DataFrame, contract: DatasetContract) -> tuple[pd.DataFrame, int]:
    """Rows without a target dropped (their count returned): they can neither train nor be scored."""
    kept = frame.loc[frame[contract.target].notna()].reset_index(drop=True)
    return kept, len(frame) - len(kept)


def model_columns(contract: DatasetContract) -> list[str]:
    """Columns of the split files: the model features, then the target (PII and others never leave)."""
    return [*model_features(contract), contract.target]


def split_frame(
    frame: pd.DataFrame, contract: DatasetContract, *, validation: float, test: float, seed: int
) -> dict[str, pd.DataFrame]:
    labels = frame[contract.target].to_numpy() if stratify_on_target(contract) else None
    indices = split_indices(len(frame), labels, validation=validation, test=test, seed=seed)
    return {name: frame.iloc[rows].reset_index(drop=True) for name, rows in indices.items()}


def manifest(
    contract: DatasetContract, splits: dict[str, pd.DataFrame], args: argparse.Namespace, dropped: int
) -> dict[str, Any]:
    target = contract.target
    return {
        "schema_version": 1,
        "contract": contract.name,
        "contract_version": contract.version,
        "features": model_features(contract),
        "columns": model_columns(contract),
        "excluded_features": excluded_features(contract),
        "target": target,
        "stratified": stratify_on_target(contract),
        "seed": args.seed,
        "fractions": {"validation": args.validation_fraction, "test": args.test_fraction},
        "dropped_rows_without_target": dropped,
        "rows": {name: len(part) for name, part in splits.items()},
        "class_counts": {
            name: {str(k): int(v) for k, v in part[target].value_counts().sort_index().items()}
            for name, part in splits.items()
        }
        if stratify_on_target(contract)
        else {},
        "drift_features": list(contract.drift_features),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log = configure_logging()
    try:
        contract = load_contract(args.contract)
    except ContractError as error:
        print(f"preprocess: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        frame, dropped = prepare(load_frame(args.input, contract), contract)
        splits = split_frame(
            frame, contract, validation=args.validation_fraction, test=args.test_fraction, seed=args.seed
        )
    except DataFileError as error:
        print(f"preprocess: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as error:  # bad fractions
        parser.print_usage(sys.stderr)
        print(f"preprocess: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    for name, part in splits.items():
        directory: Path = getattr(args, f"{name}_dir")
        directory.mkdir(parents=True, exist_ok=True)
        part[model_columns(contract)].to_csv(split_file(directory, name), index=False)
    # The baseline describes what the model was trained on: the train split, every drift feature.
    baseline = build_baseline(splits["train"], contract, bins=args.psi_bins)
    save_baseline(baseline, args.baseline_dir)
    write_json(args.baseline_dir / MANIFEST_JSON, manifest(contract, splits, args, dropped))
    log.info("preprocess: %s", ", ".join(f"{name} {len(part)} rows" for name, part in splits.items()))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
