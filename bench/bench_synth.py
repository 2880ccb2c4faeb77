"""Synth cost: every environment of Keel against a bare CDK app with one bucket, in the same run.

Both are measured as fresh processes (Python + jsii runtime start included), interleaved (bare, Keel, bare,
Keel, ...) so that the load of a shared machine hits both alike; best of `REPEATS`. The first Keel run is
reported on its own: it fills the caches a code change invalidates (Lambda bundles, pipeline definitions).
The breakdown comes from one more, instrumented run of every environment in one process; `met` compares the
best-of ratio with the goal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from keel.config import PROJECT_ROOT, environment_names, read_cdk_context

GOAL_RATIO_MAX = 3.0
REPEATS = 3
BARE_APP = """
import sys
from aws_cdk import App, Stack, aws_s3 as s3
app = App(outdir=sys.argv[1])
s3.Bucket(Stack(app, "Bare"), "Bucket")
app.synth()
"""
# Runs in a fresh process: times each phase of `keel synth-all`, then re-synthesizes one environment with
# checks switched off to price them. Prints one JSON document.
BREAKDOWN = """
import json, statistics, sys, time
from pathlib import Path

out, probe_env = Path(sys.argv[1]), sys.argv[2]
spans = {"definition": 0.0, "lambda_bundles": 0.0, "asset_links": 0.0}
started = time.perf_counter()
from aws_cdk import App
import cdk_nag
from keel.config import config_from_app, environment_names, read_cdk_context
import stacks.app
import stacks.constructs.lambda_bundle as bundles
import stacks.ml.pipeline as ml_pipeline
imports = time.perf_counter() - started

def timed(module, name, key):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spans[key] += time.perf_counter() - begun
    setattr(module, name, wrapper)

timed(ml_pipeline, "cached_pipeline_definition", "definition")
timed(bundles, "_bundle", "lambda_bundles")
timed(bundles, "_stage_by_linking", "asset_links")

def synth(env, outdir, *, nag=True, cfn_validate=True):
    for key in spans:
        spans[key] = 0.0
    begun = time.perf_counter()
    app = App(
        context=read_cdk_context() | {"env": env},
        outdir=str(outdir),
        builtin_cloud_formation_validation=cfn_validate,
    )
    stacks.app.build_app(app, config_from_app(app), compliance_checks=nag)
    built = time.perf_counter()
    app.synth()
    done = time.perf_counter()
    return {
        "definition_s": spans["definition"],
        "lambda_bundles_s": spans["lambda_bundles"],
        "asset_links_s": spans["asset_links"],
        "constructs_s": built - begun - sum(spans.values()),
        "synth_s": done - built,
        "total_s": done - begun,
    }

begun = time.perf_counter()
App(outdir=str(out / "warm-up"))
jsii_start = time.perf_counter() - begun
per_env = {env: synth(env, out / env) for env in environment_names(read_cdk_context())}
sdk_imported = "sagemaker" in sys.modules
probe = {
    "all_checks": synth(probe_env, out / "p1"),
    "without_cdk_nag": synth(probe_env, out / "p2", nag=False),
    "without_cdk_nag_and_cfn_validate": synth(probe_env, out / "p3", nag=False, cfn_validate=False),
}
print(json.dumps({
    "imports_s": imports, "jsii_start_s": jsii_start, "per_env": per_env, "probe": probe,
    "sagemaker_sdk_imported": sdk_imported,
}))
"""


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=PROJECT_ROOT, capture_output=True)
    return time.perf_counter() - started


def _keel_command(prefix: Path) -> list[str]:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    return [sys.executable, "-m", "keel.cli", "synth-all", "--output-prefix", str(prefix)]


def _breakdown(tmp: Path, probe_env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", BREAKDOWN, str(tmp / "breakdown"), probe_env],
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    raw = json.loads(result.stdout.strip().splitlines()[-1])
    per_env: dict[str, dict[str, float]] = raw["per_env"]
    probe: dict[str, dict[str, float]] = raw["probe"]
    synths = [phases["synth_s"] for phases in per_env.values()]
    later = sorted(synths[1:])
    typical_synth = later[len(later) // 2] if later else synths[0]

    def total(phase: str) -> float:
        return sum(phases[phase] for phases in per_env.values())

    return {
        "python_imports_s": round(raw["imports_s"], 2),
        "jsii_runtime_start_s": round(raw["jsii_start_s"], 2),
        "pipeline_definitions_s": round(total("definition_s"), 2),
        "sagemaker_sdk_imported": raw["sagemaker_sdk_imported"],
        "lambda_bundles_s": round(total("lambda_bundles_s"), 2),
        "lambda_asset_links_s": round(total("asset_links_s"), 2),
        "constructs_s": round(total("constructs_s"), 2),
        "synth_s": round(total("synth_s"), 2),
        # The first synth of a process loads the CloudFormation validation engine (the bare app pays it too).
        "first_synth_extra_s": round(synths[0] - typical_synth, 2),
        "per_env_total_s": {env: round(phases["total_s"], 2) for env, phases in per_env.items()},
        f"cdk_nag_4_packs_per_env_s ({probe_env})": round(
            probe["all_checks"]["synth_s"] - probe["without_cdk_nag"]["synth_s"], 2
        ),
        f"cfn_validate_per_env_s ({probe_env})": round(
            probe["without_cdk_nag"]["synth_s"] - probe["without_cdk_nag_and_cfn_validate"]["synth_s"], 2
        ),
        f"synth_without_checks_per_env_s ({probe_env})": round(
            probe["without_cdk_nag_and_cfn_validate"]["synth_s"], 2
        ),
    }


def run() -> dict[str, object]:
    environments = environment_names(read_cdk_context())
    bare_runs: list[float] = []
    keel_runs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        first = _timed(_keel_command(tmp / "first" / "cdk.out."))
        for index in range(REPEATS):
            # Fresh output folders: nothing staged by a previous run is reused.
            bare_runs.append(_timed([sys.executable, "-c", BARE_APP, str(tmp / f"bare{index}")]))
            keel_runs.append(_timed(_keel_command(tmp / f"keel{index}" / "cdk.out.")))
            shutil.rmtree(tmp / f"bare{index}", ignore_errors=True)
            shutil.rmtree(tmp / f"keel{index}", ignore_errors=True)
        breakdown = _breakdown(tmp, environments[-1])
    bare, keel = min(bare_runs), min(keel_runs)
    ratio = keel / bare
    # Each Keel run against the bare run just before it: less sensitive to one lucky short bare run.
    paired = sorted(k / b for b, k in zip(bare_runs, keel_runs, strict=True))
    return {
        "environments": environments,
        "bare_app_one_bucket_s": round(bare, 2),
        "keel_all_environments_s": round(keel, 2),
        "keel_first_run_s": round(first, 2),
        "runs_s": {"bare": [round(t, 2) for t in bare_runs], "keel": [round(t, 2) for t in keel_runs]},
        "ratio": round(ratio, 2),
        "ratio_median_of_pairs": round(paired[len(paired) // 2], 2),
        "goal_ratio_max": GOAL_RATIO_MAX,
        "met": ratio <= GOAL_RATIO_MAX,
        "breakdown": breakdown,
    }
