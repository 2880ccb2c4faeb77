"""Bundle a Keel Lambda without Docker: its handler folder, the shared `keel` domain code and the pinned
third-party packages, copied from this environment (which installed them from constraints.txt).

The bundle keeps the repository layout (`lambdas/<name>/...`, `keel/...`), so a handler runs with the same
import paths in Lambda, in tests and in the local runner. Content-addressed: unchanged code gives the same
folder and the same CDK asset hash.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from keel.config import PROJECT_ROOT

BUNDLE_ROOT = PROJECT_ROOT / ".keel" / "lambda-bundles"
# Domain modules a Lambda never needs (CLI, local AWS emulator).
_EXCLUDED_KEEL_PARTS = ("commands", "local", "scenario")  # the CLI and the local runner only
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "*.dist-info")


def _source_files(name: str) -> list[tuple[Path, Path]]:
    """(absolute source, relative destination) of Keel's own files in the bundle."""
    files: list[tuple[Path, Path]] = [(PROJECT_ROOT / "lambdas" / "__init__.py", Path("lambdas/__init__.py"))]
    handler_dir = PROJECT_ROOT / "lambdas" / name
    if not (handler_dir / "handler.py").is_file():
        raise FileNotFoundError(f"Lambda {name!r} has no lambdas/{name}/handler.py")
    keel_dir = PROJECT_ROOT / "keel"
    for root, prefix in ((handler_dir, Path("lambdas") / name), (keel_dir, Path("keel"))):
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or "__pycache__" in relative.parts or path.suffix == ".pyc":
                continue
            if root == keel_dir and relative.parts[0] in _EXCLUDED_KEEL_PARTS:
                continue
            files.append((path, prefix / relative))
    for contract in sorted((PROJECT_ROOT / "contracts").glob("*.yaml")):
        files.append((contract, Path("contracts") / contract.name))
    return files


def _distribution_roots(distributions: Iterable[str]) -> list[tuple[str, Path]]:
    """Top-level import packages/modules of each installed distribution, with their locations."""
    roots: dict[str, Path] = {}
    for distribution_name in distributions:
        distribution = importlib.metadata.distribution(distribution_name)
        for file in distribution.files or ():
            top = file.parts[0]
            if top.endswith((".dist-info", ".data")) or top in ("..", "bin", "__pycache__"):
                continue
            location = Path(str(distribution.locate_file(top)))
            roots[top] = location
    return sorted(roots.items())


def bundle_lambda(name: str, *, distributions: Sequence[str] = ()) -> Path:
    """Build (or reuse) the bundle folder of `lambdas/<name>` and return its path."""
    files = _source_files(name)
    third_party = _distribution_roots(distributions)
    digest = hashlib.sha256()
    for source, destination in files:
        digest.update(str(destination).encode())
        digest.update(source.read_bytes())
    for distribution_name in sorted(distributions):
        digest.update(f"{distribution_name}=={importlib.metadata.version(distribution_name)}".encode())
    target = BUNDLE_ROOT / f"{name}-{digest.hexdigest()[:16]}"
    if target.is_dir():
        return target
    # Per-process staging: parallel synths (e.g. test workers) must not delete each other's copy.
    staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for source, destination in files:
        (staging / destination).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, staging / destination)
    for top, location in third_party:
        if location.is_dir():
            shutil.copytree(location, staging / top, ignore=_IGNORED, dirs_exist_ok=True)
        elif location.is_file():
            shutil.copy2(location, staging / top)
    try:
        staging.rename(target)
    except OSError:
        # A concurrent synth (e.g. parallel tests) built the same content first.
        shutil.rmtree(staging, ignore_errors=True)
    _prune(name, keep=target)
    return target


def _prune(name: str, *, keep: Path, older_than_s: float = 3600.0) -> None:
    """Drop this function's stale bundles (every change to keel/ makes a new one)."""
    cutoff = time.time() - older_than_s
    for old in BUNDLE_ROOT.glob(f"{name}-*"):
        if old != keep and old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
