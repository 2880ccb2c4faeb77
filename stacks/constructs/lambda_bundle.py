"""Bundle a Keel Lambda without Docker: its handler folder, the shared `keel` domain code and the pinned
third-party packages, copied from this environment (which installed them from constraints.txt).

The bundle keeps the repository layout (`lambdas/<name>/...`, `keel/...`), so a handler runs with the same
import paths in Lambda, in tests and in the local runner. Content-addressed: unchanged code gives the same
folder and the same CDK asset hash.

Synth cost: the bundle's digest is the CDK asset hash (`lambda_code`), so the CDK neither walks nor hashes the
~700 files of each bundle again, and the staged copy in each cloud assembly is made of hard links.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import AssetHashType, Stage
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from keel.config import PROJECT_ROOT

BUNDLE_ROOT = PROJECT_ROOT / ".keel" / "lambda-bundles"
# Domain modules a Lambda never needs (CLI, local AWS emulator).
_EXCLUDED_KEEL_PARTS = ("commands", "local", "scenario")  # the CLI, the local AWS and runner, the scenario
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "*.dist-info")
# cxapi.DISABLE_ASSET_STAGING_CONTEXT: the CDK then references the source folder instead of a staged copy.
_DISABLE_ASSET_STAGING_CONTEXT = "aws:cdk:disable-asset-staging"


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


@functools.cache  # installed packages do not change while a process runs; reading RECORDs is slow
def _distribution_roots(distributions: tuple[str, ...]) -> tuple[tuple[str, Path], ...]:
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
    return tuple(sorted(roots.items()))


@functools.cache
def _versions(distributions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{name}=={importlib.metadata.version(name)}" for name in sorted(distributions))


def _bundle_digest(files: Sequence[tuple[Path, Path]], distributions: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for source, destination in files:
        digest.update(str(destination).encode())
        digest.update(source.read_bytes())
    for pinned in _versions(distributions):
        digest.update(pinned.encode())
    return digest.hexdigest()


def bundle_lambda(name: str, *, distributions: Sequence[str] = ()) -> Path:
    """Build (or reuse) the bundle folder of `lambdas/<name>` and return its path."""
    return _bundle(name, tuple(distributions))[0]


def lambda_code(scope: Construct, name: str, *, distributions: Sequence[str] = ()) -> lambda_.AssetCode:
    """The function code of `lambdas/<name>`: its bundle, staged into `scope`'s cloud assembly.

    The asset hash is derived from the bundle's digest (which covers everything the bundle is built from)
    instead of the CDK's fingerprint of the built folder: same content, same hash, without re-reading it.
    """
    bundle, digest = _bundle(name, tuple(distributions))
    _stage_by_linking(scope, bundle, hashlib.sha256(digest.encode()).hexdigest())
    return lambda_.Code.from_asset(str(bundle), asset_hash=digest, asset_hash_type=AssetHashType.CUSTOM)


# (name, distributions) -> (bundle folder, digest). A process synthesizes one version of the code, so the
# digest (which lists and reads ~130 source files) is computed once per function, not once per environment.
_BUILT: dict[tuple[str, tuple[str, ...]], tuple[Path, str]] = {}


def _bundle(name: str, distributions: tuple[str, ...]) -> tuple[Path, str]:
    known = _BUILT.get((name, distributions))
    if known is not None and known[0].is_dir():
        return known
    files = _source_files(name)
    digest = _bundle_digest(files, distributions)
    target = BUNDLE_ROOT / f"{name}-{digest[:16]}"
    _BUILT[(name, distributions)] = (target, digest)
    if target.is_dir():
        return target, digest
    # Per-process staging: parallel synths (e.g. test workers) must not delete each other's copy.
    staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for source, destination in files:
        (staging / destination).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, staging / destination)
    for top, location in _distribution_roots(distributions):
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
    return target, digest


def _stage_by_linking(scope: Construct, bundle: Path, asset_hash: str) -> None:
    """Put the bundle where the CDK stages it (`<assembly>/asset.<hash>`), as hard links instead of the
    CDK's byte copy (~18 MB per function per environment). The CDK keeps a staged folder that exists."""
    if scope.node.try_get_context(_DISABLE_ASSET_STAGING_CONTEXT):
        return
    stage = Stage.of(scope)
    if stage is None:
        return
    staged = Path(stage.asset_outdir) / f"asset.{asset_hash}"
    if staged.exists():
        return
    partial = staged.with_name(f"{staged.name}.{os.getpid()}.tmp")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(bundle, partial, copy_function=os.link)
    except OSError:  # another file system: leave the copy to the CDK
        shutil.rmtree(partial, ignore_errors=True)
        return
    try:
        partial.rename(staged)
    except OSError:  # staged concurrently
        shutil.rmtree(partial, ignore_errors=True)


def _prune(name: str, *, keep: Path, older_than_s: float = 3600.0) -> None:
    """Drop this function's stale bundles (every change to keel/ makes a new one)."""
    cutoff = time.time() - older_than_s
    for old in BUNDLE_ROOT.glob(f"{name}-*"):
        if old != keep and old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
