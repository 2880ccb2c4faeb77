"""Read the CSV files of a dataset as the contract's `format` describes them, with clear errors.

Only file-level problems raise (missing or empty file, bytes that are not the declared encoding, a wrong
delimiter, malformed rows); everything about values and columns is left to the expectations, so that it is
reported per column and per row instead of stopping at the first problem. Inputs are only ever read.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from keel.contract import ColumnType, DatasetContract

DATA_SUFFIXES = (".csv", ".csv.gz")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class DataFileError(ValueError):
    """A data file cannot be read as the contract describes; the message names the file, line and column."""


def list_data_files(path: Path) -> list[Path]:
    """The data files at `path`: the file itself, or every CSV below a directory, in a stable order.

    Hidden and marker files (".x", "_SUCCESS") are skipped, as Spark/Glue writers leave them next to data.
    """
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.name.lower().endswith(DATA_SUFFIXES) and not p.name.startswith((".", "_"))
        )
    raise DataFileError(f"{path}: no such file or directory")


def first_data_line(contract: DatasetContract) -> int:
    """1-based file line of the first data row (rows are assumed to be one line each)."""
    return 2 if contract.format.header else 1


def read_csv(path: Path, contract: DatasetContract) -> pd.DataFrame:
    """Read one file; columns are renamed from raw headers to canonical names, values are as parsed."""
    fmt = contract.format
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    if not path.is_file():
        raise DataFileError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: file is empty (0 bytes); expected a header line and data rows")
    # Text columns are read as text so that identifiers such as "007" keep their leading zeros.
    text_columns = {c.header: "str" for c in contract.columns if c.type is ColumnType.STRING}
    text_columns |= {c.name: "str" for c in contract.columns if c.type is ColumnType.STRING}
    try:
        with warnings.catch_warnings():
            # pandas only warns (and drops data) when the first data row has more fields than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                sep=fmt.delimiter,
                header=0 if fmt.header else None,
                names=None if fmt.header else [c.name for c in contract.columns],
                encoding=_python_encoding(fmt.encoding),
                dtype=text_columns,
                index_col=False,  # never take an extra first field for a row index
                # Keep blank lines as (empty) rows: skipping them would shift the line numbers of later rows.
                skip_blank_lines=False,
            )
    except pd.errors.ParserWarning:
        raise DataFileError(
            f"{path}: malformed CSV: the first data row has more fields than the header"
        ) from None
    except UnicodeDecodeError:
        raise DataFileError(describe_undecodable(path, contract)) from None
    except pd.errors.EmptyDataError:
        raise DataFileError(f"{path}: no header line (the file holds only blank space)") from None
    except pd.errors.ParserError as error:
        detail = str(error).strip().splitlines()[-1]
        raise DataFileError(
            f"{path}: malformed CSV (delimiter {_delimiter_name(fmt.delimiter)}): {detail}"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if fmt.header and not any(frame.columns):
        raise DataFileError(f"{path}: no header line (the first line is blank)")
    _check_delimiter(frame, path, contract)
    frame = _drop_trailing_blank_rows(frame)
    return _rename(frame, path, contract)


def describe_undecodable(path: Path, contract: DatasetContract) -> str:
    """Locate the first byte that is not valid in the declared encoding (only called on that error path)."""
    fmt = contract.format
    encoding = _python_encoding(fmt.encoding)
    delimiter = fmt.delimiter.encode(fmt.encoding)  # not "-sig": that would prepend a BOM
    headers: list[str] | None = None if fmt.header else [c.name for c in contract.columns]
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as error:
                field = raw[: error.start].count(delimiter)
                column = _column_label(headers, field, contract)
                return (
                    f"{path}: not valid {fmt.encoding}: line {number}, column {column}: byte "
                    f"0x{raw[error.start]:02x} cannot be decoded (re-export the file as {fmt.encoding})"
                )
            if headers is None:
                headers = [h.strip().lstrip("\ufeff") for h in text.rstrip("\r\n").split(fmt.delimiter)]
    return f"{path}: not valid {fmt.encoding}"


def _column_label(headers: list[str] | None, index: int, contract: DatasetContract) -> str:
    if headers is None or index >= len(headers):
        return f"#{index + 1}"
    header = headers[index]
    name = contract.header_renames.get(header)
    return f"'{header}' ({name})" if name and name != header else f"'{header}'"


def _python_encoding(encoding: str) -> str:
    # A UTF-8 byte-order mark is valid UTF-8; without "-sig" it would end up in the first header.
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _delimiter_name(delimiter: str) -> str:
    return f"{_DELIMITER_NAMES.get(delimiter, 'character')} {delimiter!r}"


def _check_delimiter(frame: pd.DataFrame, path: Path, contract: DatasetContract) -> None:
    expected = len(contract.columns)
    if not contract.format.header or expected < 2 or frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    declared = contract.format.delimiter
    for candidate in _DELIMITER_NAMES:
        if candidate != declared and len(header.split(candidate)) >= expected // 2:
            raise DataFileError(
                f"{path}: wrong delimiter: the header parses as one column {header[:60]!r}; the file "
                f"looks {_delimiter_name(candidate)}-separated, but the contract's format.delimiter is "
                f"{_delimiter_name(declared)}"
            )
    raise DataFileError(
        f"{path}: the header has a single column {header[:60]!r}; expected {expected} columns separated by "
        f"{_delimiter_name(declared)}"
    )


def _drop_trailing_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    filled = frame.notna().any(axis=1).to_numpy()
    last = len(filled) - int(filled[::-1].argmax()) if filled.any() else 0
    return frame.iloc[:last] if last < len(frame) else frame


def _rename(frame: pd.DataFrame, path: Path, contract: DatasetContract) -> pd.DataFrame:
    renames = contract.header_renames
    renamed = [renames.get(c, c) for c in frame.columns]
    duplicates = sorted({c for c in renamed if renamed.count(c) > 1})
    if duplicates:
        raise DataFileError(
            f"{path}: column(s) {', '.join(duplicates)} appear more than once (raw and canonical header both "
            "present?)"
        )
    frame.columns = renamed
    return frame
