"""cfn-lint on synthesized templates, each template linted at most once per test process.

The monitoring, serving and governance tests lint templates of the same synthesis the stack tests lint per
environment (tests/unit/stacks/conftest.py `_cache`, shared in the "synth" xdist group): their findings are
kept per template, so the second test to ask for a template reads them instead of linting it again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CFN_LINT = Path(sys.executable).parent / "cfn-lint"  # cfn-lint 1.x has no `python -m cfnlint`
_findings: dict[str, list[dict[str, Any]]] = {}


def cfn_lint(templates: Iterable[Path]) -> list[dict[str, Any]]:
    """cfn-lint's findings (`--format json`) on `templates`; fails if cfn-lint itself fails (exit bit 1)."""
    paths = [os.path.realpath(template) for template in templates]
    assert paths, "no template to lint"
    todo = [path for path in dict.fromkeys(paths) if path not in _findings]
    if todo:
        result = subprocess.run(
            [str(CFN_LINT), "--format", "json", *todo], capture_output=True, text=True, check=False
        )
        # Exit code bits: 1 a lint failure/exception, 2 errors, 4 warnings, 8 informational.
        assert not result.returncode & 1, result.stderr[-2000:]
        found: dict[str, list[dict[str, Any]]] = {path: [] for path in todo}
        for finding in json.loads(result.stdout or "[]"):
            found[os.path.realpath(finding["Filename"])].append(finding)
        assert bool(result.returncode & 2) == any(f["Level"] == "Error" for v in found.values() for f in v)
        _findings.update(found)
    return [finding for path in paths for finding in _findings[path]]
