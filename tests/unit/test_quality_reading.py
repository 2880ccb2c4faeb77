"""Reading data files as the contract's format says, with a clear error for every unreadable file."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.contract import CONTRACTS_DIR, load_contract, parse_contract
from keel.quality.loading import load_frame
from keel.quality.reading import DataFileError, list_data_files, read_csv

CONTRACT = load_contract()
HEADER = ",".join(c.header for c in CONTRACT.columns)
ROW = "7,0.27,0.36,20.7,0.045,45,170,1.001,3,0.45,8.8,6"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_raw_headers_become_canonical_names(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path / "a.csv", f"{HEADER}\n{ROW}\n"), CONTRACT)
    assert list(frame.columns) == [c.name for c in CONTRACT.columns]
    assert frame.loc[0, "ph"] == 3


def test_canonical_headers_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    header = ",".join(c.name for c in CONTRACT.columns)
    frame = read_csv(write(tmp_path / "a.csv", "\ufeff" + f"{header}\n{ROW}\n"), CONTRACT)
    assert frame.columns[0] == "fixed_acidity"


def test_blank_lines_keep_line_numbers_and_trailing_ones_are_dropped(tmp_path: Path) -> None:
    frame = read_csv(write(tmp_path / "a.csv", f"{HEADER}\n{ROW}\n\n{ROW}\n\n\n"), CONTRACT)
    assert len(frame) == 3 and frame.iloc[1].isna().all()  # row 2 is line 3, the blank one


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty (0 bytes)"),
        (b"  \n\n", "no header line (the first line is blank)"),
        (
            HEADER.replace(",", ";").encode() + b"\n" + ROW.replace(",", ";").encode(),
            "wrong delimiter: the header parses as one column",
        ),
        (b"just,two\n1,2\n", None),  # readable: the columns are the expectations' business
        (
            f"{HEADER}\n{ROW},99\n".encode(),
            "malformed CSV: the first data row has more fields than the header",
        ),
        (
            f"{HEADER}\n{ROW}\n7,0.3,0.4\xe9,1".encode("latin-1"),
            "not valid utf-8: line 3, column 'citric acid' (citric_acid): byte 0xe9",
        ),
    ],
    ids=["empty", "blank", "semicolons", "other-columns", "ragged", "latin-1"],
)
def test_unreadable_files(tmp_path: Path, content: bytes, expected: str | None) -> None:
    path = write(tmp_path / "data.csv", content)
    if expected is None:
        assert list(read_csv(path, CONTRACT).columns) == ["just", "two"]
        return
    with pytest.raises(DataFileError) as error:
        read_csv(path, CONTRACT)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="file not found"):
        read_csv(tmp_path / "nope.csv", CONTRACT)
    with pytest.raises(DataFileError, match="no such file or directory"):
        list_data_files(tmp_path / "nope")


def test_listing_skips_markers_and_is_sorted(tmp_path: Path) -> None:
    for name in ("b/2.csv", "a.csv", "_SUCCESS", ".hidden.csv", "notes.txt", "c.csv.gz"):
        write(tmp_path / name, "x")
    assert [p.relative_to(tmp_path).as_posix() for p in list_data_files(tmp_path)] == [
        "a.csv",
        "b/2.csv",
        "c.csv.gz",
    ]


def contract_with(**changes: Any) -> Any:
    document = copy.deepcopy(yaml.safe_load((CONTRACTS_DIR / "wine_quality.yaml").read_text()))
    document.update(changes)
    return document


def test_text_columns_keep_leading_zeros(tmp_path: Path) -> None:
    document = contract_with()
    document["columns"].append({"name": "lot", "type": "string"})
    contract = parse_contract(document)
    frame = read_csv(write(tmp_path / "a.csv", f"{HEADER},lot\n{ROW},007\n"), contract)
    assert frame.loc[0, "lot"] == "007"


def test_headerless_files_take_the_contract_order(tmp_path: Path) -> None:
    contract = parse_contract(contract_with(format={"type": "csv", "delimiter": "|", "header": False}))
    frame = read_csv(write(tmp_path / "a.csv", ROW.replace(",", "|") + "\n"), contract)
    assert frame.loc[0, "alcohol"] == 8.8 and frame.columns[0] == "fixed_acidity"


def test_strict_loading_names_column_and_line(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", f"{HEADER}\n{ROW}\n{ROW.replace('8.8', 'high')}\n")
    with pytest.raises(DataFileError, match=r"column alcohol: 'high' on line 3 is not of type double"):
        load_frame(tmp_path, CONTRACT)
    write(tmp_path / "a.csv", f"{HEADER}\n{ROW[:-1]}6.5\n")
    with pytest.raises(DataFileError, match=r"column quality: 6.5 on line 2 is not of type integer"):
        load_frame(tmp_path / "a.csv", CONTRACT)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match="no data files"):
        load_frame(tmp_path / "empty", CONTRACT)
