"""Content-addressed cache of the training pipeline's definition (`.keel/pipeline-definitions/<key>.json`).

Building the definition imports the SageMaker SDK (~2 s) and builds it (~1 s per environment) on every synth.
The definition is a pure function of the environment's config, the contract, Keel's definition code and the
SDK's version, so the key covers exactly those; a hit never imports the SDK. A miss builds as before.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import json
import os
import time
from pathlib import Path
from typing import Any

from keel.config import PROJECT_ROOT, EnvironmentConfig
from keel.contract import DatasetContract

CACHE_ROOT = PROJECT_ROOT / ".keel" / "pipeline-definitions"
# Bump when the cached document's form changes.
_FORMAT = "1"
# The SDK distributions the definition is built with (their versions are part of the key).
_SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "sagemaker-mlops", "sagemaker-serve", "sagemaker-train")
_ENTRY_MODULE = "pipeline_steps.definition"
_PROJECT_PACKAGES = ("keel", "pipeline_steps")


def cached_pipeline_definition(config: EnvironmentConfig, contract: DatasetContract) -> dict[str, Any]:
    """`pipeline_definition(config, contract)` (synth placeholders left in), built once per distinct input."""
    path = CACHE_ROOT / f"{cache_key(config, contract)}.json"
    try:
        cached: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cached
    except (OSError, ValueError):
        pass
    from pipeline_steps.definition import pipeline_definition

    definition = pipeline_definition(config, contract)
    _write(path, json.dumps(definition, sort_keys=True))
    return definition


def cache_key(config: EnvironmentConfig, contract: DatasetContract) -> str:
    digest = hashlib.sha256(_FORMAT.encode())
    for part in (
        config.model_dump_json(),
        contract.model_dump_json(),
        _code_digest(),
        *_sdk_versions(),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


@functools.cache  # installed packages do not change while a process runs
def _sdk_versions() -> tuple[str, ...]:
    versions = []
    for name in _SDK_DISTRIBUTIONS:
        try:
            versions.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    return tuple(versions)


def _code_digest() -> str:
    """Hash of the definition module and every Keel module it imports, transitively (read on each call, so
    an edit during a long-lived process is seen)."""
    digest = hashlib.sha256()
    for module, path in sorted(_import_closure(_ENTRY_MODULE).items()):
        digest.update(module.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _import_closure(entry: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    parts = entry.split(".")
    pending = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]  # importing a module runs its parents
    while pending:
        module = pending.pop()
        if module in found:
            continue
        path = _module_path(module)
        if path is None:
            continue
        found[module] = path
        pending.extend(_project_imports(path, module))
    return found


def _module_path(module: str) -> Path | None:
    base = PROJECT_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _project_imports(path: Path, module: str) -> list[str]:
    """Project modules imported anywhere in the file (function-level imports too), and their parents."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    modules: list[str] = []
    for name in names:
        if name.split(".")[0] not in _PROJECT_PACKAGES:
            continue
        parts = name.split(".")
        modules.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return modules


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # atomic: concurrent synths (test workers) write the same content
    _prune(keep=path)


def _prune(*, keep: Path, older_than_s: float = 7 * 86400.0) -> None:
    """Drop definitions no synth has written for a week (every code change makes a new key)."""
    cutoff = time.time() - older_than_s
    for old in CACHE_ROOT.glob("*.json"):
        try:
            if old != keep and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
