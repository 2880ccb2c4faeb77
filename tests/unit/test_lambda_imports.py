"""No Lambda imports the CDK side (keel.config, aws_cdk, constructs, stacks) nor the local emulator (the local
runner, the local AWS, the scenario, moto): statically, every import
reachable from a handler, including imports inside functions (only `if TYPE_CHECKING:` blocks are skipped);
and at runtime, what importing each handler in a fresh interpreter loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(p.parent.name for p in (ROOT / "lambdas").glob("*/handler.py"))
FORBIDDEN = (
    "keel.config",
    "aws_cdk",
    "constructs",
    "stacks",
    # What stands in for AWS locally never ships: a Lambda that needed it would only work locally.
    "keel.local",
    "keel.scenario",
    "moto",
)


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN)


def _source(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(module: str, path: Path) -> list[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for statement in child.orelse:
                    visit(statement)
                continue
            if isinstance(child, ast.Import):
                found.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, *([child.module] if child.module else [])])
                found.append(base)
                found.extend(f"{base}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _reachable(start: str) -> dict[str, str]:
    """Every module reachable from `start` (Keel's own followed), with the module that imports it."""
    importer: dict[str, str] = {start: ""}
    todo = [start]
    while todo:
        module = todo.pop()
        path = _source(module)
        if path is None:
            continue
        for name in _imports(module, path):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                if prefix not in importer:
                    importer[prefix] = module
                    todo.append(prefix)
    return importer


def _chain(importer: dict[str, str], module: str) -> str:
    chain = [module]
    while importer.get(chain[-1]):
        chain.append(importer[chain[-1]])
    return " <- ".join(chain)


@pytest.mark.parametrize("handler", HANDLERS)
def test_no_import_path_reaches_the_cdk_side(handler: str) -> None:
    importer = _reachable(f"lambdas.{handler}.handler")
    assert any(m.startswith("keel.") for m in importer) or handler == "macie_job_provider"  # graph followed
    bad = [_chain(importer, m) for m in importer if _forbidden(m)]
    assert not bad, f"lambdas/{handler} imports the CDK side: {bad}"


def test_the_static_check_catches_a_cdk_import(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from keel.config import load_environment\n", encoding="utf-8")
    assert "keel.config" in _imports("keel.m", path)


def test_importing_the_handlers_loads_nothing_of_the_cdk_side() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {HANDLERS!r}:\n"
        "    importlib.import_module(f'lambdas.{name}.handler')\n"
        "print('\\n'.join(sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in loaded if _forbidden(m)] == []
