"""Cold start: each Lambda handler imported from its deployed bundle vs `import boto3`, in the same run.

Every handler's bundle is built with its function's real distributions (the lists the stacks pass to
`bundle_lambda`). Each import runs in a fresh `python -I -S` whose path holds only the bundle and a folder
with what the Lambda runtime provides (boto3 and its dependencies): nothing else leaks in.
Compiled bytecode goes to a temporary `-X pycache_prefix` (the bundle folders are CDK assets and stay
untouched); one warm-up run per command writes it, then the median of REPEATS runs is taken, alternating
handler and boto3 runs so that load from other processes hits both alike. Goal: every handler <= 1.5x
`import boto3`. No assertion: results only.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from keel.config import PROJECT_ROOT

REPEATS = 5
GOAL_RATIO = 1.5
TOP_IMPORTS = 5
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "urllib3", "dateutil", "six.py")
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)\s*$")


def handler_distributions() -> dict[str, Sequence[str]]:
    """Each handler's third-party distributions, as the stacks bundle it."""
    from keel.feedback.names import FeedbackFunction
    from stacks.feedback.function import DISTRIBUTIONS as FEEDBACK
    from stacks.governance.functions import DISTRIBUTIONS as GOVERNANCE
    from stacks.monitoring.drift_check import DISTRIBUTIONS as MONITORING

    found: dict[str, Sequence[str]] = {
        "policy_gate": GOVERNANCE,
        "lineage_recorder": GOVERNANCE,
        "macie_quarantine": GOVERNANCE,
        "drift_publisher": MONITORING,
        "model_deployer": MONITORING,  # stacks/serving/deployer.py reuses the drift check's list
        "macie_job_provider": (),  # stacks/security/macie.py: standard library and boto3 only
    }
    found.update({function.value: FEEDBACK for function in FeedbackFunction})
    handlers = sorted(p.parent.name for p in (PROJECT_ROOT / "lambdas").glob("*/handler.py"))
    unknown = sorted(set(handlers) - set(found))
    if unknown:
        raise RuntimeError(f"bench_coldstart: no distributions known for {', '.join(unknown)}")
    return {name: found[name] for name in handlers}


def _runtime_folder(root: Path) -> Path:
    folder = root / "runtime"
    folder.mkdir()
    site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for name in RUNTIME_PACKAGES:
        (folder / name).symlink_to(site_packages / name)
    return folder


def _command(paths: Sequence[Path], module: str, pycache: Path, *, importtime: bool = False) -> list[str]:
    code = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; import {module}"
    flags = ["-X", f"pycache_prefix={pycache}"] + (["-X", "importtime"] if importtime else [])
    return [sys.executable, "-I", "-S", *flags, "-c", code]


def _time(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd="/", env=env)
    return time.perf_counter() - started


def _heaviest(command: list[str]) -> list[dict[str, object]]:
    """The imports Keel's own code makes (handler or keel.*) with the largest cumulative time."""
    stderr = subprocess.run(command, check=True, capture_output=True, text=True, cwd="/").stderr
    rows: list[tuple[int, int, str]] = []  # (cumulative us, depth, module), children before their parent
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            rows.append((int(match.group(2)), len(match.group(3)), match.group(4)))
    found: list[tuple[int, str, str]] = []
    for index, (cumulative, depth, name) in enumerate(rows):
        importer = next((row[2] for row in rows[index + 1 :] if row[1] < depth), "")
        if importer.startswith(("lambdas.", "keel.")) and not name.startswith("lambdas"):
            found.append((cumulative, name, importer))
    return [
        {"module": name, "imported_by": importer, "cumulative_ms": round(us / 1000, 1)}
        for us, name, importer in sorted(found, reverse=True)[:TOP_IMPORTS]
    ]


def run() -> dict[str, object]:
    from stacks.feedback.function import bundle_once

    distributions = handler_distributions()
    bundles = {name: bundle_once(name) for name in distributions} if distributions else {}
    with tempfile.TemporaryDirectory(prefix="keel-coldstart-") as tmp:
        root = Path(tmp)
        runtime = _runtime_folder(root)
        pycache = root / "pycache"
        boto3_command = _command([runtime], "boto3", pycache)
        commands = {
            name: _command([bundle, runtime], f"lambdas.{name}.handler", pycache)
            for name, bundle in bundles.items()
        }
        # As in Lambda (LAMBDA_TASK_ROOT set): Powertools' Tracer is on, so the X-Ray SDK loads and patches.
        in_lambda = {**os.environ, "LAMBDA_TASK_ROOT": str(root)}
        for command in (boto3_command, *commands.values()):
            _time(command)  # warm-up: compiles the bytecode once, and fails loudly on an import error
            _time(command, in_lambda)
        boto3_times: list[float] = []
        handler_times: dict[str, list[float]] = {name: [] for name in commands}
        traced_times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(REPEATS):
            for name, command in commands.items():
                boto3_times.append(_time(boto3_command))
                handler_times[name].append(_time(command))
                traced_times[name].append(_time(command, in_lambda))
        boto3_s = statistics.median(boto3_times)
        handlers: dict[str, object] = {}
        for name, times in handler_times.items():
            seconds = statistics.median(times)
            ratio = seconds / boto3_s
            handlers[name] = {
                "seconds": round(seconds, 3),
                "ratio": round(ratio, 2),
                "goal_ratio": GOAL_RATIO,
                "met": ratio <= GOAL_RATIO,
                # Not the goal's measure: what an AWS cold start's import adds with tracing active.
                "with_tracing_seconds": round(statistics.median(traced_times[name]), 3),
                "with_tracing_ratio": round(statistics.median(traced_times[name]) / boto3_s, 2),
                "heaviest_imports": _heaviest(
                    _command([bundles[name], runtime], f"lambdas.{name}.handler", pycache, importtime=True)
                ),
            }
    return {
        "timing": f"median of {REPEATS} fresh `python -I -S` processes, handler and boto3 runs alternating",
        "import_boto3_s": round(boto3_s, 3),
        "goal_ratio": GOAL_RATIO,
        "all_met": all(h["met"] for h in handlers.values() if isinstance(h, dict)),
        "handlers": handlers,
    }
