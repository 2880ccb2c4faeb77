"""Tiny wine-quality fixtures: real rows from the repository's data, written in the raw-file format."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "wine-quality"


@cache
def _raw(colour: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"winequality-{colour}.csv")


def wine_rows(colour: str = "white", n: int = 120, seed: int = 0) -> pd.DataFrame:
    """`n` rows sampled (seeded) from the real data, raw headers ("fixed acidity", ...)."""
    frame = _raw(colour)
    return frame.sample(n=min(n, len(frame)), random_state=seed).reset_index(drop=True)


def write_csv(path: Path, frame: pd.DataFrame, delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, sep=delimiter)
    return path


def digest(path: Path) -> str:
    """Fingerprint of a file or of every file below a directory (to prove inputs stay untouched)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    hasher = hashlib.sha256()
    for file in files:
        hasher.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        hasher.update(file.read_bytes())
        hasher.update(str(file.stat().st_mtime_ns).encode())
    return hasher.hexdigest()
