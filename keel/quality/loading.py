"""Strict loading for consumers of (already validated) data: preprocess, drift, evaluation.

Unlike validation, which reports every problem, this stops at the first one with a message that names the
file, the column and an offending line, because these consumers cannot proceed on bad data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from keel.contract import ColumnType, DatasetContract
from keel.quality.checks import PYTHON_TYPES
from keel.quality.coerce import coerce_column
from keel.quality.reading import DataFileError, first_data_line, list_data_files, read_csv


def load_frame(
    source: Path | Sequence[Path], contract: DatasetContract, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a file, the CSVs of a directory, or a list of files; keep `columns` (default: the contract's).

    Raises `DataFileError` if there are no files, a file is unreadable, a column is missing, or a value
    does not fit its column type.
    """
    paths = list_data_files(source) if isinstance(source, Path) else list(source)
    if not paths:
        raise DataFileError(f"{source}: no data files (*.csv) found")
    wanted = list(columns) if columns is not None else [c.name for c in contract.columns]
    frames = []
    for path in paths:
        frame = read_csv(path, contract)
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise DataFileError(f"{path}: missing column(s) {', '.join(missing)}")
        frames.append(_typed(frame[wanted], path, contract))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _typed(frame: pd.DataFrame, path: Path, contract: DatasetContract) -> pd.DataFrame:
    typed = {}
    for name, values in frame.items():
        column = contract.column_map.get(str(name))
        coerced = values if column is None else coerce_column(values, column.type)
        if column is not None and coerced.dtype == object and column.type is not ColumnType.STRING:
            # coerce_column keeps values that do not fit as read: the first one is the error.
            accepted = PYTHON_TYPES[column.type]
            fits = coerced.map(lambda v, a=accepted: isinstance(v, a), na_action="ignore")
            bad = (coerced.notna() & ~fits.fillna(True).astype(bool)).to_numpy()
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                line = row + first_data_line(contract)
                raise DataFileError(
                    f"{path}: column {name}: {_plain(values.iloc[row])!r} on line {line} "
                    f"is not of type {column.type.value}"
                )
        typed[name] = coerced
    return pd.DataFrame(typed)


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
