"""Great Expectations validation of 1M rows vs the same checks in vectorised pandas (warm timings).

Both evaluate the specs generated from the wine contract on the same coerced 1M-row frame (resampled from
the white-wine data with 1 % multiplicative noise). Each runs once to warm up, then REPEATS times,
interleaved; the best time is reported (on a shared machine the minimum is the least noisy estimate).
Goal: GE within 3x of the pandas floor. No assertion: results only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keel.contract import DatasetContract, load_contract
from keel.quality.checks import evaluate
from keel.quality.coerce import coerce_frame
from keel.quality.expectations import expectation_specs

ROWS = 1_000_000
REPEATS = 3
GOAL_RATIO = 3.0
DATA = Path(__file__).resolve().parent.parent / "data" / "wine-quality"


def resample_wine(contract: DatasetContract, rows: int, *, seed: int, colour: str = "white") -> pd.DataFrame:
    """`rows` rows drawn with replacement from the real data, features jittered by 1 % (kept in bounds)."""
    rng = np.random.default_rng(seed)
    source = pd.read_csv(DATA / f"winequality-{colour}.csv").rename(columns=contract.header_renames)
    frame = source.iloc[rng.integers(0, len(source), rows)].reset_index(drop=True)
    for column in contract.feature_columns:
        values = frame[column.name].to_numpy(dtype=np.float64) * rng.normal(1.0, 0.01, rows)
        frame[column.name] = np.clip(values, column.min, column.max)
    return coerce_frame(frame, contract)


def best_times(runs: dict[str, Callable[[], Any]], repeats: int = REPEATS) -> dict[str, float]:
    """Warm best-of-`repeats` per run, interleaved so that load from other processes hits all alike."""
    for run in runs.values():
        run()  # warm-up
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def run() -> dict[str, object]:
    from keel.quality.gx_suite import run_suite  # imported here: GE's import time is not validation time

    contract = load_contract()
    specs = expectation_specs(contract)
    frame = resample_wine(contract, ROWS, seed=1)
    small = frame.head(1_000)
    times = best_times(
        {
            "pandas": lambda: evaluate(frame, specs),
            "gx_summary": lambda: run_suite(frame, contract, specs, result_format="SUMMARY"),
            "gx_boolean": lambda: run_suite(frame, contract, specs, result_format="BOOLEAN_ONLY"),
            "gx_1k": lambda: run_suite(small, contract, specs, result_format="SUMMARY"),
        }
    )
    pandas_s, gx_summary_s, gx_boolean_s = times["pandas"], times["gx_summary"], times["gx_boolean"]
    gx_fixed_s = times["gx_1k"]
    agree = run_suite(frame, contract, specs)["success"] == all(r.success for r in evaluate(frame, specs))
    ratio = gx_summary_s / pandas_s
    return {
        "timing": f"warm, best of {REPEATS}, interleaved",
        "rows": ROWS,
        "expectations": len(specs),
        "pandas_checks_s": round(pandas_s, 4),
        "gx_summary_s": round(gx_summary_s, 4),
        "gx_boolean_only_s": round(gx_boolean_s, 4),
        "gx_1k_rows_s": round(gx_fixed_s, 4),  # GE's per-run overhead, independent of the data size
        "ratio_gx_summary_to_pandas": round(ratio, 2),
        "ratio_gx_boolean_only_to_pandas": round(gx_boolean_s / pandas_s, 2),
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio <= GOAL_RATIO,
        "same_verdict": agree,
    }
