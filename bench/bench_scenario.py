"""`make local` after install: wall time and peak memory of its two phases, measured as a user runs them.

Phase 1 `keel local up --fresh` (start the local AWS, CDK bootstrap, deploy every stack of env local with the
real CDK CLI); phase 2 `keel scenario` (the whole production loop). Goal: both together under 5 minutes on
2 cores. Each phase runs as a subprocess in its own local-AWS state directory (the developer's running
local AWS is not touched); peak memory is the largest resident set of a process of the phase (the CDK
CLI's node, the scenario's Python) and the local AWS server's own high-water mark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 300.0
ROOT = Path(__file__).resolve().parents[1]
KEEL = Path(sys.executable).parent / "keel"


# Runs one command and writes the peak RSS (KiB) of its process tree's largest process: a fresh parent per
# phase, so one phase's peak is not the other's (RUSAGE_CHILDREN keeps a maximum over all children).
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def _phase(args: list[str], env: dict[str, str], log: Path) -> dict[str, float]:
    peak_file = log.with_suffix(".peak")
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as output:
        code = subprocess.call(
            [sys.executable, "-c", _MEASURE, str(peak_file), str(KEEL), *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"`keel {' '.join(args)}` exited {code}; see {log}")
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(int(peak_file.read_text()) / 1024, 1)}


def _server_peak_mb(state_dir: Path) -> float | None:
    try:
        pid = int(json.loads((state_dir / "local.json").read_text())["pid"])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, KeyError):
        return None
    return None


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="keel-bench-scenario-") as scratch:
        root = Path(scratch)
        env = {**os.environ, "KEEL_LOCAL_STATE_DIR": str(root / "state")}
        env.pop("AWS_ENDPOINT_URL", None)
        try:
            deploy = _phase(
                ["local", "up", "--fresh", "--output", str(root / "cdk.out")], env, root / "deploy.log"
            )
            state = json.loads((root / "state" / "local.json").read_text())
            env["AWS_ENDPOINT_URL"] = f"http://localhost:{int(state['port'])}"
            scenario = _phase(["scenario", "--report-dir", str(root / "report")], env, root / "scenario.log")
            server_peak = _server_peak_mb(root / "state")
            summary = json.loads((root / "report" / "summary.json").read_text())
        finally:
            subprocess.call([str(KEEL), "local", "down"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    total = deploy["seconds"] + scenario["seconds"]
    return {
        "deploy_seconds": deploy["seconds"],
        "scenario_seconds": scenario["seconds"],
        "total_seconds": round(total, 1),
        "goal_seconds": GOAL_SECONDS,
        "goal_met": total < GOAL_SECONDS,
        "peak_rss_mb": {
            "deploy_largest_process": deploy["peak_rss_mb"],
            "scenario_largest_process": scenario["peak_rss_mb"],
            "local_aws_server": server_peak,
        },
        "executions": len(summary["executions"]),
        "versions": len(summary["versions"]),
        "cpu_count": os.cpu_count(),
    }
