"""The local AWS emulates AWS, never Keel: no product module imports the emulator — moto, keel.local (the
local AWS and the runner that stands in for SageMaker Pipelines), keel.scenario (drives the local platform).
Product: keel/* except those and the CLI (keel/commands starts the local AWS), lambdas/, stacks/,
pipeline_steps/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ("moto", "keel.local", "keel.scenario")
NOT_PRODUCT = ("keel/local/", "keel/scenario/", "keel/commands/", "keel/cli.py")


def product_modules() -> list[Path]:
    files = [
        p for folder in ("keel", "lambdas", "stacks", "pipeline_steps") for p in (ROOT / folder).rglob("*.py")
    ]
    return sorted(p for p in files if not p.relative_to(ROOT).as_posix().startswith(NOT_PRODUCT))


def emulator_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else []
        )
        found += [n for n in names if any(n == e or n.startswith(f"{e}.") for e in EMULATOR)]
    return found


def test_there_are_product_modules_to_check() -> None:
    assert len(product_modules()) > 100


def test_no_product_module_imports_the_emulator() -> None:
    offenders = {
        path.relative_to(ROOT).as_posix(): found
        for path in product_modules()
        if (found := emulator_imports(path))
    }
    assert offenders == {}


def test_the_check_sees_an_emulator_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from keel.local.clock import advance\n    import moto.core\n")
    assert emulator_imports(module) == ["keel.local.clock", "moto.core"]
