"""Synth cost: every environment of Keel against a bare CDK app with one bucket, in the same run.

Both are measured as fresh processes (Python + jsii runtime start included), best of a few runs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from keel.config import PROJECT_ROOT, environment_names, read_cdk_context

BARE_APP = """
import sys
from aws_cdk import App, Stack, aws_s3 as s3
app = App(outdir=sys.argv[1])
s3.Bucket(Stack(app, "Bare"), "Bucket")
app.synth()
"""
REPEATS = 2


def _best_of(command: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=PROJECT_ROOT, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def run() -> dict[str, object]:
    environments = environment_names(read_cdk_context())
    with tempfile.TemporaryDirectory() as tmp:
        bare = _best_of([sys.executable, "-c", BARE_APP, str(Path(tmp) / "bare")])
        keel = _best_of(
            [sys.executable, "-m", "keel.cli", "synth-all", "--output-prefix", str(Path(tmp) / "cdk.out.")]
        )
    return {
        "environments": environments,
        "bare_app_one_bucket_s": round(bare, 2),
        "keel_all_environments_s": round(keel, 2),
        "ratio": round(keel / bare, 2),
        "goal_ratio_max": 3.0,
    }
