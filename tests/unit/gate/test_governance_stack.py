"""The governance stack next to the environment's stacks: four cdk-nag packs clean, no stale
acknowledgment, cfn-lint without errors, and what the template must say (rules, least privilege, alarms).

Until `stacks.app.build_environment` builds the governance stack, this module adds it to an app itself (two
synths: with and without acknowledgments). Once it is wired, the module reuses the session's synth of the
stacks tests (tests/unit/stacks/conftest.py) and their acknowledgment test covers staleness.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Match, Template

from keel.config import EnvironmentConfig, config_from_app, read_cdk_context
from keel.contract import load_contract
from keel.gate.settings import GovernanceSettings, governance_stack_name
from stacks.app import KeelStacks, build_environment
from stacks.compliance import acknowledgments, add_compliance_checks
from stacks.governance.stack import GovernanceStack
from tests.unit.stacks.cfn_lint import cfn_lint

WIRED = "governance" in {field.name for field in dataclasses.fields(KeelStacks)}
pytestmark = pytest.mark.xdist_group("synth" if WIRED else "governance-synth")
ENV_NAME = "prod"  # retain, deletion protection, a human approves: the production shape
ACCEPTED_CFN_LINT_WARNINGS = {"W3005"}


@dataclass
class Synth:
    app: App
    config: EnvironmentConfig
    stack: GovernanceStack
    outdir: Path

    @property
    def template_json(self) -> dict[str, Any]:
        return json.loads((self.outdir / f"{self.stack.stack_name}.template.json").read_text())


def synthesize(outdir: Path, **context: Any) -> Synth:
    app = App(context=read_cdk_context() | {"env": ENV_NAME} | context, outdir=str(outdir))
    config = config_from_app(app)
    stacks = build_environment(app, config)
    name = governance_stack_name(config)
    stack = GovernanceStack(
        app,
        name,
        config=config,
        contract=load_contract(config.contract),
        keys=stacks.security.keys,
        stack_name=name,
        env=Environment(account=config.account, region=config.region),
        description=f"Keel {config.name}: governance",
    )
    stack.add_stack_dependency(stacks.ml)
    add_compliance_checks(app)
    return Synth(app, config, stack, outdir)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    if WIRED:
        from tests.unit.stacks import conftest as shared

        if ENV_NAME not in shared._cache:
            shared._cache[ENV_NAME] = shared.synthesize(tmp_path_factory.mktemp(f"cdk-{ENV_NAME}"), ENV_NAME)
        environment = shared._cache[ENV_NAME]
        stack = environment.stacks.governance  # type: ignore[attr-defined]
        return Synth(stack.node.root, environment.config, stack, environment.outdir)
    synthesized = synthesize(tmp_path_factory.mktemp("cdk-governance"))
    synthesized.app.synth()  # raises ValidationFailed on any unacknowledged finding of the four packs
    return synthesized


@pytest.fixture(scope="module")
def template(synth: Synth) -> Template:
    return Template.from_json(synth.template_json)


def test_the_stack_synthesizes_clean_under_the_four_packs(synth: Synth) -> None:
    records = [r for r in acknowledgments(synth.app) if r.construct_path.startswith(synth.stack.stack_name)]
    assert records and all(len(r.reason) >= 20 for r in records)


def test_cfn_lint_reports_no_errors(synth: Synth) -> None:
    # Not `python -m cfnlint`: cfn-lint 1.x has no __main__, so that call linted nothing and found nothing.
    findings = cfn_lint([synth.outdir / f"{synth.stack.stack_name}.template.json"])
    unexpected = [f for f in findings if f["Rule"]["Id"] not in ACCEPTED_CFN_LINT_WARNINGS]
    assert not unexpected, json.dumps(unexpected, indent=1)[:3000]


def test_rules_route_keels_events_to_the_functions_with_a_dead_letter_queue(template: Template) -> None:
    settings = GovernanceSettings.from_config(synth_config())
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelPackageGroupName": [settings.model_package_group]},
            },
            "Targets": [
                Match.object_like({"DeadLetterConfig": Match.any_value(), "RetryPolicy": Match.any_value()})
            ],
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.macie"],
                "detail-type": ["Macie Finding"],
                "detail": {"resourcesAffected": {"s3Bucket": {"name": list(settings.macie_buckets)}}},
            }
        },
    )


def synth_config() -> EnvironmentConfig:
    from keel.config import load_environment

    return load_environment(ENV_NAME)


def test_functions_get_the_settings_and_the_table_is_encrypted(template: Template) -> None:
    settings = GovernanceSettings.from_config(synth_config())
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "lambdas.policy_gate.handler.lambda_handler",
            "Timeout": 300,
            "Environment": {"Variables": Match.object_like(settings.to_environ())},
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": settings.idempotency_table,
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    names = sorted(a["Properties"]["AlarmName"] for a in alarms.values())
    assert names == sorted(
        f"keel-prod-system-{fn}-{what}"
        for fn in ("policy-gate", "lineage-recorder", "macie-quarantine")
        for what in ("errors", "dlq")
    )
    assert all(a["Properties"]["AlarmActions"] == [settings.alert_topic_arn] for a in alarms.values())


def statements(template: Template, function: str) -> dict[str, dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::Policy")
    [policy] = [p for logical_id, p in policies.items() if logical_id.startswith(function)]
    return {s.get("Sid", ""): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_least_privilege_names_the_resources(template: Template) -> None:
    settings = GovernanceSettings.from_config(synth_config())
    gate = statements(template, "PolicyGate")
    assert as_list(gate["DecideOnKeelModelVersions"]["Resource"]) == [
        f"arn:aws:sagemaker:{settings.region}:{settings.account}:model-package/{settings.model_package_group}/*"
    ]
    assert gate["WriteDecisionEvidence"]["Action"] == "s3:PutObject"
    assert as_list(gate["WriteDecisionEvidence"]["Resource"]) == [
        f"arn:aws:s3:::{settings.evidence_bucket}/evidence/model-packages/*"
    ]
    gate_actions = {a for s in gate.values() for a in as_list(s["Action"])}
    assert not [a for a in gate_actions if a == "*" or a.endswith(":*")]
    forbidden = {
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "s3:BypassGovernanceRetention",
    }
    assert not forbidden & gate_actions
    quarantine = statements(template, "MacieQuarantine")
    actions = {a for s in quarantine.values() for a in as_list(s["Action"])}
    assert "s3:DeleteObject" in actions and not {"s3:DeleteObjectVersion", "s3:PutObjectRetention"} & actions
    assert all(
        r.endswith("/quarantine/macie/*") for r in as_list(quarantine["WriteQuarantineCopies0"]["Resource"])
    )


def test_the_bundles_carry_the_handlers_and_the_policy_file(synth: Synth) -> None:
    from stacks.constructs.lambda_bundle import bundle_lambda
    from stacks.governance.functions import DISTRIBUTIONS

    for name in ("policy_gate", "macie_quarantine"):
        bundle = bundle_lambda(name, distributions=DISTRIBUTIONS)
        assert (bundle / "lambdas" / name / "handler.py").is_file()
        assert (bundle / "keel" / "gate" / "policies.yaml").is_file()
        assert (bundle / "aws_lambda_powertools").is_dir() and (bundle / "yaml").is_dir()
        assert not (bundle / "keel" / "commands").exists()


def test_every_ended_run_reaches_the_lineage_recorder_and_its_record_the_gate(template: Template) -> None:
    """The record of every run is written by deployed code (not by a local runner): the recorder listens to
    the pipeline's final statuses; the gate listens to the recorder's announcement of Keel's packages."""
    settings = GovernanceSettings.from_config(synth_config())
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
                "detail": {
                    "pipelineArn": [settings.pipeline_arn],
                    "currentPipelineExecutionStatus": ["Succeeded", "Failed", "Stopped"],
                },
            },
            "Targets": [
                Match.object_like({"DeadLetterConfig": Match.any_value(), "RetryPolicy": Match.any_value()})
            ],
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["keel.lineage"],
                "detail-type": ["Keel Lineage Record Written"],
                "detail": {"ModelPackageArn": [{"prefix": settings.model_package_arn_prefix}]},
            }
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "lambdas.lineage_recorder.handler.lambda_handler",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        **settings.to_environ(),
                        "KEEL_LINEAGE_CONTRACT_NAME": synth_config().contract,
                        "KEEL_LINEAGE_SOURCE_SHA256": Match.string_like_regexp("^[0-9a-f]{64}$"),
                    }
                )
            },
        },
    )
    recorder = statements(template, "LineageRecorder")
    assert as_list(recorder["WriteLineageRecords"]["Resource"]) == [
        f"arn:aws:s3:::{settings.reports_bucket}/lineage/executions/*"
    ]
    assert as_list(recorder["ReadEndedExecutions"]["Resource"]) == [f"{settings.pipeline_arn}/execution/*"]
    assert "sagemaker:ListPipelineExecutionSteps" in recorder["ReadEndedExecutions"]["Action"]
    assert recorder["AnnounceLineageRecords"]["Condition"] == {
        "StringEquals": {"events:source": "keel.lineage"}
    }
    actions = {a for s in recorder.values() for a in as_list(s["Action"])}
    assert not {"s3:DeleteObject", "s3:DeleteObjectVersion", "sagemaker:UpdateModelPackage"} & actions
