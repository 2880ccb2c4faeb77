"""The delivery app under the four cdk-nag packs and cfn-lint; its acknowledgments are never stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, CfnWaitConditionHandle, Environment, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from keel.config import ConfigError, EnvironmentConfig, load_config, load_delivery, read_cdk_context
from stacks.compliance import PACKS, SKIP_ACKNOWLEDGMENTS_CONTEXT, acknowledgments, add_compliance_checks
from stacks.delivery.app import build_delivery_app
from stacks.delivery.stack import DeliveryStack
from stacks.delivery.stage import StacksBuilder
from tests.unit.delivery.conftest import SynthesizedDelivery

pytestmark = pytest.mark.xdist_group("delivery")

# W3005 (redundant DependsOn) is emitted by the CDK itself.
ACCEPTED_CFN_LINT_WARNINGS = {"W3005"}
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def test_the_delivery_app_is_clean_under_the_four_packs(delivery: SynthesizedDelivery) -> None:
    report = json.loads((delivery.outdir / "validation-report.json").read_text())
    failures = {
        violation["ruleName"]: [c["constructPath"] for c in violation["violatingConstructs"]][:3]
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
    }
    assert delivery.error is None and not failures, json.dumps(failures, indent=1)[:3000]


def _cfn_lint(templates: list[Path]) -> list[dict[str, object]]:
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", *map(str, templates)], capture_output=True, text=True, check=False
    )
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), result.stderr  # 1: cfn-lint itself failed
    findings: list[dict[str, object]] = json.loads(result.stdout)
    return findings


def test_cfn_lint_reports_no_errors_on_the_pipeline_and_smoke_check_stacks(
    delivery: SynthesizedDelivery,
) -> None:
    templates = [delivery.outdir / "KeelDelivery.template.json"]
    templates += sorted(delivery.outdir.glob("assembly-KeelDelivery-*/*SmokeCheck*.template.json"))
    assert len(templates) == 4
    findings = _cfn_lint(templates)
    unexpected = [f for f in findings if f["Rule"]["Id"] not in ACCEPTED_CFN_LINT_WARNINGS]  # type: ignore[index]
    assert not unexpected, json.dumps(unexpected, indent=1)[:3000]


def _light_environment(assets: Path) -> StacksBuilder:
    """Instead of an environment's real stacks (their acknowledgments have their own test): one stack with a
    file and an image asset, so the pipeline gets both asset-publishing roles."""

    def build(scope: Construct, config: EnvironmentConfig) -> Stack:
        stack = Stack(
            scope,
            f"Keel-{config.name}-Light",
            env=Environment(account=config.account, region=config.region),
        )
        CfnWaitConditionHandle(stack, "Placeholder")  # a template needs a resource
        s3_assets.Asset(stack, "File", path=str(assets))
        ecr_assets.DockerImageAsset(stack, "Image", directory=str(assets))
        return stack

    return build


def test_every_delivery_acknowledgment_still_matches_a_real_finding(tmp_path: Path) -> None:
    """Without acknowledgments, each acknowledged rule must fire on its construct: none is stale."""
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "Dockerfile").write_text("FROM scratch\n")
    context = read_cdk_context() | {SKIP_ACKNOWLEDGMENTS_CONTEXT: True}
    delivery = load_delivery(context)
    app = App(context=context, outdir=str(tmp_path / "cdk.out"))
    DeliveryStack(
        app,
        "KeelDelivery",
        env=Environment(account=delivery.account, region=delivery.region),
        delivery=delivery,
        environments=[load_config(context, name) for name in delivery.stages],
        build_stacks=_light_environment(assets),
    )
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    assert {r["pluginName"] for r in report["pluginReports"]} == set(PACKS), "a pack did not run"
    findings = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    }
    records = acknowledgments(app)
    paths = {r.construct_path for r in records}
    assert any(p.startswith("KeelDelivery/Pipeline/Assets/") for p in paths)
    assert any(p.startswith("KeelDelivery/prod/Keel-prod-SmokeCheck/") for p in paths)
    stale = [
        (r.rule_id, r.construct_path)
        for r in records
        if not any(
            rule == r.rule_id and (path == r.construct_path or path.startswith(r.construct_path + "/"))
            for rule, path in findings
        )
    ]
    assert not stale, f"acknowledgments that match no finding: {stale}"


def test_an_s3_source_is_supported_and_compliant(tmp_path: Path) -> None:
    context = read_cdk_context()
    delivery = load_delivery(
        context
        | {
            "keel:delivery": context["keel:delivery"]
            | {"source": {"type": "s3", "bucket": "keel-source-444444444444", "object_key": "keel/main.zip"}}
        }
    )
    app = App(context=context, outdir=str(tmp_path))
    stack = DeliveryStack(
        app,
        "KeelDelivery",
        env=Environment(account=delivery.account, region=delivery.region),
        delivery=delivery,
        environments=[],
    )
    add_compliance_checks(app)
    app.synth()  # raises on any unacknowledged finding
    template = json.loads((tmp_path / "KeelDelivery.template.json").read_text())
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    (source,) = pipeline["Properties"]["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"]["S3Bucket"] == "keel-source-444444444444"
    assert source["Configuration"]["S3ObjectKey"] == "keel/main.zip"
    assert source["Configuration"]["PollForSourceChanges"] is True  # no trail needed in the tooling account
    assert stack.stages == []


def test_a_stage_that_is_not_an_environment_stops_synth() -> None:
    context = read_cdk_context()
    app = App(context=context | {"keel:delivery": context["keel:delivery"] | {"stages": ["dev", "qa"]}})
    with pytest.raises(ConfigError, match=r"keel:delivery\.stages: unknown environment"):
        build_delivery_app(app)
