"""Run every benchmark module and write one JSON file: `python -m bench --out bench-results.json [NAME ...]`.

Each `bench_*.py` module exposes `run() -> dict[str, object]`. Ratios are measured within one run so that
the noise of a shared machine cancels out; no benchmark asserts a time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all), e.g. synth")
    args = parser.parse_args(argv)
    available = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(bench.__path__)
        if m.name.startswith("bench_")
    )
    selected = args.names or available
    unknown = sorted(set(selected) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}")
    results: dict[str, object] = {}
    for name in selected:
        print(f"[bench] {name} ...", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.bench_{name}")
        results[name] = module.run()
        print(
            f"[bench] {name}: {json.dumps(results[name])} ({time.perf_counter() - started:.1f} s)", flush=True
        )
    document = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpu_count": __import__("os").cpu_count(),
            "platform": platform.platform(),
        },
        "results": results,
    }
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"[bench] wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
