"""Compliance as tests: the four cdk-nag packs and cfn-lint on every environment's templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from keel.config import config_from_app, read_cdk_context
from stacks.app import build_app
from stacks.compliance import PACKS, SKIP_ACKNOWLEDGMENTS_CONTEXT, acknowledgments, add_compliance_checks
from tests.unit.stacks.cfn_lint import cfn_lint
from tests.unit.stacks.conftest import ENVIRONMENTS, NO_ASSET_STAGING

pytestmark = pytest.mark.xdist_group("synth")

# cfn-lint warnings accepted: W3005 is a redundant DependsOn that the CDK itself emits.
ACCEPTED_CFN_LINT_WARNINGS = {"W3005"}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_environment_synthesizes_clean_under_the_four_packs(synth, env_name: str) -> None:
    synthesized = synth(env_name)  # app.synth() raises ValidationFailed on any unacknowledged finding
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    failures = [r for r in report["pluginReports"] if r["conclusion"] != "success"]
    assert not failures


def test_an_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Bare"), "PlainBucket")
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()


def test_every_acknowledgment_still_matches_a_real_finding(tmp_path: Path) -> None:
    """Without acknowledgments, each acknowledged rule must fire on its construct: none is stale."""
    context = read_cdk_context() | {"env": "dev", SKIP_ACKNOWLEDGMENTS_CONTEXT: True} | NO_ASSET_STAGING
    app = App(context=context, outdir=str(tmp_path))
    build_app(app, config_from_app(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert {r["pluginName"] for r in report["pluginReports"]} == set(PACKS), "a pack did not run"
    findings = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    }
    records = acknowledgments(app)
    assert records, "no acknowledgments were recorded"
    stale = [
        (r.rule_id, r.construct_path)
        for r in records
        if not any(
            rule == r.rule_id and (path == r.construct_path or path.startswith(r.construct_path + "/"))
            for rule, path in findings
        )
    ]
    assert not stale, f"acknowledgments that match no finding: {stale}"
    for record in records:
        assert len(record.reason) >= 20


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_cfn_lint_reports_no_errors(synth, env_name: str) -> None:
    templates = sorted(synth(env_name).outdir.glob("*.template.json"))
    assert templates
    findings = cfn_lint(templates)  # fails if cfn-lint itself fails
    unexpected = [f for f in findings if f["Rule"]["Id"] not in ACCEPTED_CFN_LINT_WARNINGS]
    assert not unexpected, json.dumps(unexpected, indent=1)[:3000]
    assert not [f for f in findings if f["Level"] == "Error"]


def test_acknowledgments_are_recorded_per_app(synth) -> None:
    synthesized = synth("local")
    app = synthesized.stacks.security.node.root
    assert isinstance(app, App)
    assert {r.rule_id for r in acknowledgments(app)} >= {
        "AwsSolutions-SQS3",
        "NIST.800.53.R5-IAMNoInlinePolicy",
    }
