"""Synthesize the delivery app once per test run, exactly as `cdk synth -c env=delivery` does.

Synth writes every template before the cdk-nag validation runs, so a finding is kept as `error` for the
compliance test to report instead of failing every assertion test. Under pytest-xdist the workers share one
synthesis through a lock file (pytest 9 ignores `xdist_group`, so these tests may land on any worker).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from keel.config import DELIVERY_ENVIRONMENT, ENV_CONTEXT_KEY, read_cdk_context
from stacks.delivery.app import build_delivery_app


@dataclass
class SynthesizedDelivery:
    outdir: Path
    error: str | None

    def manifest(self, directory: Path | None = None) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(((directory or self.outdir) / "manifest.json").read_text())
        return result

    @property
    def template(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads((self.outdir / "KeelDelivery.template.json").read_text())
        return result

    def stage_templates(self, stage: str) -> dict[str, dict[str, Any]]:
        """Stack name → template of every stack the stage's nested assembly holds."""
        directory = self.outdir / f"assembly-KeelDelivery-{stage}"
        return {
            artifact["properties"]["stackName"]: json.loads(
                (directory / artifact["properties"]["templateFile"]).read_text()
            )
            for artifact in self.manifest(directory)["artifacts"].values()
            if artifact["type"] == "aws:cloudformation:stack"
        }

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}

    @property
    def pipeline(self) -> dict[str, Any]:
        (pipeline,) = self.resources("AWS::CodePipeline::Pipeline").values()
        return pipeline["Properties"]

    def stage(self, name: str) -> dict[str, Any]:
        return next(stage for stage in self.pipeline["Stages"] if stage["Name"] == name)


def synthesize_delivery(outdir: Path) -> SynthesizedDelivery:
    app = App(context=read_cdk_context() | {ENV_CONTEXT_KEY: DELIVERY_ENVIRONMENT}, outdir=str(outdir))
    build_delivery_app(app)
    try:
        app.synth()
        error = None
    except RuntimeError as failure:  # cdk-nag findings: "ValidationFailed", templates already written
        if "ValidationFailed" not in str(failure):
            raise
        error = str(failure)
    return SynthesizedDelivery(outdir=outdir, error=error)


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedDelivery:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return synthesize_delivery(tmp_path_factory.mktemp("cdk-delivery"))
    shared = tmp_path_factory.getbasetemp().parent  # the run's base directory, common to its workers
    outdir, result = shared / "cdk-delivery", shared / "cdk-delivery.json"
    with _exclusive(shared / "cdk-delivery.lock"):
        if not result.exists():
            synthesized = synthesize_delivery(outdir)
            result.write_text(json.dumps({"error": synthesized.error}))
    return SynthesizedDelivery(outdir=outdir, error=json.loads(result.read_text())["error"])
