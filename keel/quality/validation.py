"""Validate data files against a dataset contract: read, coerce, run GE and the row checks, quarantine.

Shared by the `validate` pipeline step, `keel validate` and (later) Lambdas. Files are only read; results
go to the directories the caller names.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keel.contract import DatasetContract
from keel.quality.checks import evaluate, row_reasons
from keel.quality.coerce import coerce_frame
from keel.quality.expectations import expectation_specs
from keel.quality.gx_suite import DEFAULT_RESULT_FORMAT, run_suite
from keel.quality.reading import DataFileError, first_data_line, read_csv
from keel.quality.summary import FileReport, ValidationSummary, render_text, summarise

SUMMARY_JSON = "summary.json"
SUMMARY_TXT = "summary.txt"
GX_RESULT_JSON = "validation_result.json"
QUARANTINE_CSV = "quarantine.csv"
# Provenance columns of the quarantine file (prefixed so they cannot clash with contract columns).
SOURCE_FILE, SOURCE_LINE, REASONS = "_source_file", "_source_line", "_reasons"


@dataclass(frozen=True)
class ValidationOutcome:
    summary: ValidationSummary
    gx_result: dict[str, Any] | None  # None when no file was readable
    quarantine: pd.DataFrame  # failing rows as read, with source file, line and reasons


def validate_files(
    paths: Sequence[Path],
    contract: DatasetContract,
    *,
    sharded: bool = False,
    shard: str | None = None,
    result_format: str = DEFAULT_RESULT_FORMAT,
) -> ValidationOutcome:
    """Validate the files as one batch (one shard). Never raises for bad data: it is reported instead.

    An unreadable file is reported and the others are still validated; a shard may be empty (a sharded
    job can have more instances than files), a single-instance run may not.
    """
    errors = [] if paths or sharded else ["no input files to validate"]
    files, frames = _read_all(paths, contract)
    if not frames and (files or not sharded):
        summary = summarise(
            contract,
            gx_result=None,
            checks=[],
            files=files,
            rows=0,
            quarantined_rows=0,
            shard=shard,
            errors=errors,
        )
        return ValidationOutcome(summary, None, _empty_quarantine(contract))
    raw = pd.concat(frames, ignore_index=True) if frames else _empty_frame(contract)
    provenance = raw[[SOURCE_FILE, SOURCE_LINE]] if frames else None
    raw = raw.drop(columns=[SOURCE_FILE, SOURCE_LINE], errors="ignore")
    typed = coerce_frame(raw, contract)
    specs = expectation_specs(contract, sharded=sharded)
    gx_result = run_suite(typed, contract, specs, result_format=result_format)
    checks = evaluate(typed, specs)
    quarantine = _quarantine(raw, provenance, row_reasons(typed, checks))
    summary = summarise(
        contract,
        gx_result=gx_result,
        checks=checks,
        files=files,
        rows=len(raw),
        quarantined_rows=len(quarantine),
        shard=shard,
        errors=errors,
    )
    return ValidationOutcome(summary, gx_result, quarantine)


def _read_all(
    paths: Sequence[Path], contract: DatasetContract
) -> tuple[list[FileReport], list[pd.DataFrame]]:
    """Every readable file, tagged with its provenance; unreadable ones only reported."""
    files: list[FileReport] = []
    frames: list[pd.DataFrame] = []
    for path in paths:
        try:
            frame = read_csv(path, contract)
        except DataFileError as error:
            files.append(FileReport(path=str(path), error=str(error)))
            continue
        files.append(FileReport(path=str(path), rows=len(frame)))
        frames.append(frame.assign(**{SOURCE_FILE: str(path), SOURCE_LINE: _lines(len(frame), contract)}))
    return files, frames


def _lines(rows: int, contract: DatasetContract) -> np.ndarray:
    return np.arange(first_data_line(contract), first_data_line(contract) + rows, dtype=np.int64)


def _empty_frame(contract: DatasetContract) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=object) for c in contract.columns})


def _empty_quarantine(contract: DatasetContract) -> pd.DataFrame:
    columns = [SOURCE_FILE, SOURCE_LINE, REASONS, *(c.name for c in contract.columns)]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _quarantine(raw: pd.DataFrame, provenance: pd.DataFrame | None, reasons: pd.Series) -> pd.DataFrame:
    rows = reasons.index.to_numpy()
    failing = raw.iloc[rows].reset_index(drop=True)
    head = pd.DataFrame(
        {
            SOURCE_FILE: provenance[SOURCE_FILE].to_numpy()[rows] if provenance is not None else None,
            SOURCE_LINE: provenance[SOURCE_LINE].to_numpy()[rows] if provenance is not None else None,
            REASONS: reasons.to_numpy(),
        }
    )
    return pd.concat([head, failing], axis=1)


def write_outcome(
    outcome: ValidationOutcome, out_dir: Path, quarantine_dir: Path | None = None
) -> list[Path]:
    """Write summary.json, summary.txt, validation_result.json (when GE ran) and quarantine.csv."""
    quarantine_dir = quarantine_dir or out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    written = [write_summary(outcome.summary, out_dir)]
    written.append(out_dir / SUMMARY_TXT)
    if outcome.gx_result is not None:
        path = out_dir / GX_RESULT_JSON
        path.write_text(dumps_json(outcome.gx_result), encoding="utf-8")
        written.append(path)
    path = quarantine_dir / QUARANTINE_CSV
    outcome.quarantine.to_csv(path, index=False)
    written.append(path)
    return written


def write_summary(summary: ValidationSummary, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SUMMARY_JSON
    path.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (out_dir / SUMMARY_TXT).write_text(render_text(summary), encoding="utf-8")
    return path


def read_summary(path: Path) -> ValidationSummary:
    return ValidationSummary.model_validate_json(path.read_text(encoding="utf-8"))


def dumps_json(document: Any) -> str:
    """Strict JSON (NaN and infinities become null), so that any JSON reader, e.g. JsonGet, can parse it."""
    return json.dumps(_finite(document), indent=2, default=str) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
