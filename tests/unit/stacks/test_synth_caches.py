"""Synth caches: the pipeline definition cache is keyed by everything the definition is built from, and a
Lambda's asset hash is its bundle's digest, staged into the assembly as hard links to the bundle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from keel.config import EnvironmentConfig, load_environment, read_cdk_context
from keel.contract import load_contract
from stacks.constructs import lambda_bundle
from stacks.ml import definition_cache
from stacks.ml.definition_cache import cache_key, cached_pipeline_definition

DISTRIBUTIONS = ("pyyaml",)


def test_the_definition_key_follows_config_contract_and_code() -> None:
    config, contract = load_environment("dev"), load_contract()
    key = cache_key(config, contract)
    assert cache_key(load_environment("dev"), load_contract()) == key
    assert cache_key(load_environment("prod"), contract) != key
    thresholds = config.thresholds.model_copy(update={"min_accuracy": 0.1})
    lower = config.model_copy(update={"thresholds": thresholds})
    assert cache_key(lower, contract) != key
    assert cache_key(config, contract.model_copy(update={"version": contract.version + "-next"})) != key


def test_the_code_key_covers_every_keel_module_the_definition_imports() -> None:
    modules = set(definition_cache._import_closure("pipeline_steps.definition"))
    assert {
        "pipeline_steps",
        "pipeline_steps.definition",
        "keel.config",
        "keel.contract",
        "keel.naming",
        "keel.sagemaker_offline",
    } <= modules


def test_a_cached_definition_is_the_built_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(definition_cache, "CACHE_ROOT", tmp_path)
    config: EnvironmentConfig = load_environment("staging")
    contract = load_contract()
    built = cached_pipeline_definition(config, contract)  # a miss: built with the SDK, then stored
    stored = tmp_path / f"{cache_key(config, contract)}.json"
    assert json.loads(stored.read_text()) == built
    assert cached_pipeline_definition(config, contract) == built  # a hit: read back


def test_a_lambda_asset_is_its_bundle_linked_under_the_bundle_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bundle of its own, on the assembly's file system, and no memo of earlier tests' bundles.
    monkeypatch.setattr(lambda_bundle, "BUNDLE_ROOT", tmp_path / "bundles")
    monkeypatch.setattr(lambda_bundle, "_BUILT", {})
    bundle = lambda_bundle.bundle_lambda("data_trigger", distributions=DISTRIBUTIONS)
    _, digest = lambda_bundle._bundle("data_trigger", DISTRIBUTIONS)
    outdir = tmp_path / "cdk.out"
    app = App(context=read_cdk_context(), outdir=str(outdir))
    stack = Stack(app, "Bundles")
    lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_11,
        handler="lambdas.data_trigger.handler.lambda_handler",
        code=lambda_bundle.lambda_code(stack, "data_trigger", distributions=DISTRIBUTIONS),
    )
    assembly = app.synth()
    asset_hash = hashlib.sha256(digest.encode()).hexdigest()  # the CDK's hash of a custom asset hash
    staged = outdir / f"asset.{asset_hash}"
    handler = Path("lambdas/data_trigger/handler.py")
    assert (staged / handler).stat().st_ino == (bundle / handler).stat().st_ino
    assert sorted(p.relative_to(staged) for p in staged.rglob("*")) == sorted(
        p.relative_to(bundle) for p in bundle.rglob("*")
    )
    template = json.loads(Path(assembly.get_stack_by_name("Bundles").template_full_path).read_text())
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert function["Properties"]["Code"]["S3Key"] == f"{asset_hash}.zip"
