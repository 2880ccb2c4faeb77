"""Great Expectations' batch fingerprint (`pandas_data_fingerprint`), computed in cache-sized chunks.

GE 1.24 fingerprints every pandas batch under 1 GB as `md5(hash_pandas_object(df, index=True))` while it
loads the batch. Over the whole frame at once that costs more than all of the suite's checks (numpy
temporaries the size of the frame; 0.13 s per 1M rows, superlinear beyond). Row hashes only depend on
their own row, so hashing slices and feeding md5 in order gives the same digest at about half the cost
(see bench/bench_validation.py). `gx_suite` switches GE's own hashing off while it loads a batch and puts
this value where GE would have: the archived result is unchanged; tests hold the two to equality.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

# Rows hashed per slice: ~2 MB per column temporary, which stays in cache (measured best of 16k-1M rows).
CHUNK_ROWS = 262_144


def _engine_module() -> Any:
    from great_expectations.execution_engine import pandas_execution_engine

    return pandas_execution_engine


def ge_hash_threshold() -> float:
    """GE's size limit (bytes, shallow memory usage): larger batches get no fingerprint at all."""
    return float(_engine_module().HASH_THRESHOLD)


def frame_fingerprint(frame: pd.DataFrame, threshold: float) -> str | None:
    """The fingerprint GE would record for `frame` (None where GE records none: at or above `threshold`)."""
    if frame.memory_usage().sum() >= threshold:
        return None
    digest = hashlib.md5(usedforsecurity=False)  # GE's choice; a batch fingerprint, not security
    try:
        for start in range(0, len(frame), CHUNK_ROWS):
            piece = frame.iloc[start : start + CHUNK_ROWS]
            digest.update(pd.util.hash_pandas_object(piece, index=True).to_numpy())
    except TypeError:
        # Unhashable values (e.g. dicts): GE pickles the whole frame instead; let it do exactly that.
        return str(_engine_module().hash_pandas_dataframe(frame))
    return digest.hexdigest()


@contextmanager
def ge_hashing_disabled() -> Iterator[float]:
    """Stop GE from fingerprinting the batches loaded inside the block; yields GE's original threshold.

    GE reads the module constant at each batch load; it is restored on exit. Not thread-safe (Keel
    validates one batch at a time per process).
    """
    module = _engine_module()
    threshold = ge_hash_threshold()
    module.HASH_THRESHOLD = 0  # `size < 0` never holds: no hashing
    try:
        yield threshold
    finally:
        module.HASH_THRESHOLD = threshold
