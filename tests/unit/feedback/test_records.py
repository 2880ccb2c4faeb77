"""Record validation against the contract, and CSV rendering (with property-based checks)."""

from __future__ import annotations

import csv
import io
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.contract import load_contract
from keel.feedback.records import render_csv, validate_record

CONTRACT = load_contract()
GOOD = {
    "fixed_acidity": 7.0,
    "volatile acidity": 0.27,
    "citric_acid": 0.36,
    "residual_sugar": 20,
    "chlorides": 0.045,
    "free_sulfur_dioxide": 45.0,
    "total_sulfur_dioxide": 170.0,
    "density": 1.001,
    "pH": 3.0,
    "sulphates": 0.45,
    "alcohol": 8.8,
    "quality": 6.0,
}


def test_a_good_record_is_normalised_to_column_names_and_types() -> None:
    check = validate_record(CONTRACT, GOOD)
    assert check.valid and check.row is not None
    assert check.row["volatile_acidity"] == 0.27 and check.row["ph"] == 3.0
    assert check.row["residual_sugar"] == 20.0 and isinstance(check.row["residual_sugar"], float)
    assert check.row["quality"] == 6 and isinstance(check.row["quality"], int)


def test_every_problem_is_reported() -> None:
    record = {**GOOD, "quality": 6.5, "alcohol": True, "density": float("nan"), "colour": "red", "pH": None}
    record["fixed_acidity"] = 99
    errors = validate_record(CONTRACT, record).errors
    assert errors == (
        "unknown field 'colour'",
        "fixed_acidity: 99.0 is above the maximum 20.0",
        "density: nan is not a finite number",
        "ph: required",
        "alcohol: expected a number, got bool",
        "quality: 6.5 is not an integer",
    )


def test_a_column_given_twice_is_refused() -> None:
    assert "given twice" in validate_record(CONTRACT, {**GOOD, "ph": 3.1}).errors[0]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*GOOD, "x"]), st.none() | st.booleans() | st.floats() | st.integers() | st.text()
    )
)
def test_validation_never_raises_and_valid_rows_render_as_the_contract_csv(payload: dict) -> None:
    check = validate_record(CONTRACT, {**GOOD, **payload})
    if not check.valid:
        assert check.errors
        return
    assert check.row is not None
    parsed = list(csv.DictReader(io.StringIO(render_csv(CONTRACT, [check.row]).decode())))
    assert list(parsed[0]) == [c.header for c in CONTRACT.columns]
    for column in CONTRACT.columns:
        assert math.isclose(float(parsed[0][column.header]), float(check.row[column.name]))
