"""Keel benchmarks: each `bench/bench_*.py` module exposes `run() -> dict` (its named results)."""
