"""The local alarm evaluation (CloudWatch's rules for Keel's static-threshold alarms)."""

from __future__ import annotations

import pytest

from keel.monitoring.local_alarms import decide


@pytest.mark.parametrize(
    ("values", "periods", "needed", "missing", "current", "expected"),
    [
        ([0.5], 1, 1, "ignore", "OK", "ALARM"),
        ([0.1], 1, 1, "ignore", "ALARM", "OK"),
        ([], 1, 1, "ignore", "ALARM", "ALARM"),
        ([], 1, 1, "notBreaching", "ALARM", "OK"),
        ([], 1, 1, "missing", "OK", "INSUFFICIENT_DATA"),
        ([], 3, 3, "breaching", "OK", "ALARM"),
        ([0.5, 0.1, 0.5], 3, 2, "notBreaching", "OK", "ALARM"),
        ([0.5, 0.1, 0.1], 3, 2, "notBreaching", "OK", "OK"),
        ([0.5], 3, 2, "breaching", "OK", "ALARM"),
        ([0.5], 3, 2, "notBreaching", "OK", "OK"),
    ],
)
def test_decide(
    values: list[float], periods: int, needed: int, missing: str, current: str, expected: str
) -> None:
    assert (
        decide(
            values,
            evaluation_periods=periods,
            datapoints_to_alarm=needed,
            threshold=0.25,
            comparison="GreaterThanThreshold",
            treat_missing=missing,
            current=current,
        )
        == expected
    )


def test_less_than_comparisons() -> None:
    kwargs = {"evaluation_periods": 1, "datapoints_to_alarm": 1, "treat_missing": "missing", "current": "OK"}
    assert decide([0.0], threshold=1, comparison="LessThanThreshold", **kwargs) == "ALARM"  # type: ignore[arg-type]
    assert decide([1.0], threshold=1, comparison="LessThanOrEqualToThreshold", **kwargs) == "ALARM"  # type: ignore[arg-type]
    assert decide([1.0], threshold=1, comparison="LessThanThreshold", **kwargs) == "OK"  # type: ignore[arg-type]
