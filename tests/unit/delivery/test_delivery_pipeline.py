"""Assertions on the synthesized promotion pipeline (KeelDelivery) and its nested stages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keel.config import load_delivery, load_environment, read_cdk_context
from keel.delivery.checks import required_permissions
from stacks.delivery.steps import SYNTH_COMMANDS
from tests.unit.delivery.conftest import SynthesizedDelivery

pytestmark = pytest.mark.xdist_group("delivery")

STAGES = ("dev", "staging", "prod")
TOOLING = "444444444444"


def _actions(stage: dict[str, Any], provider: str) -> list[dict[str, Any]]:
    return [a for a in stage["Actions"] if a["ActionTypeId"]["Provider"] == provider]


def _project(delivery: SynthesizedDelivery, action: dict[str, Any]) -> dict[str, Any]:
    project_id = action["Configuration"]["ProjectName"]["Ref"]
    properties: dict[str, Any] = delivery.template["Resources"][project_id]["Properties"]
    return properties


def _buildspec(delivery: SynthesizedDelivery, action: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(_project(delivery, action)["Source"]["BuildSpec"])
    return result


def test_only_the_pipeline_stack_is_top_level_and_each_stage_is_a_nested_assembly(
    delivery: SynthesizedDelivery,
) -> None:
    artifacts = delivery.manifest()["artifacts"]
    assert [k for k, v in artifacts.items() if v["type"] == "aws:cloudformation:stack"] == ["KeelDelivery"]
    assert artifacts["KeelDelivery"]["environment"] == f"aws://{TOOLING}/eu-west-1"
    nested = [v["properties"]["displayName"] for v in artifacts.values() if v["type"] == "cdk:cloud-assembly"]
    assert nested == [f"KeelDelivery/{stage}" for stage in STAGES]


def test_stages_promote_dev_then_staging_then_prod(delivery: SynthesizedDelivery) -> None:
    names = [stage["Name"] for stage in delivery.pipeline["Stages"]]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", *STAGES]
    assert delivery.pipeline["PipelineType"] == "V2"
    assert delivery.pipeline["Name"] == "keel-delivery"


def test_a_manual_approval_precedes_every_prod_deployment_and_only_prod(
    delivery: SynthesizedDelivery,
) -> None:
    prod = delivery.stage("prod")
    (approval,) = _actions(prod, "Manual")
    assert approval["Name"] == "PromoteToProd"
    assert approval["RunOrder"] < min(a["RunOrder"] for a in _actions(prod, "CloudFormation"))
    assert "333333333333/eu-west-1" in approval["Configuration"]["CustomData"]
    for stage in ("dev", "staging"):
        assert not _actions(delivery.stage(stage), "Manual")


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_deploys_every_stack_of_its_environment_through_its_bootstrap_roles(
    delivery: SynthesizedDelivery, stage: str
) -> None:
    config = load_environment(stage)
    account, region = config.account, config.region
    stacks = delivery.stage_templates(stage)
    assert {f"Keel-{stage}-{c}" for c in ("Security", "Data", "ML", "SmokeCheck")} <= set(stacks)
    deployments = _actions(delivery.stage(stage), "CloudFormation")
    assert {a["Configuration"]["StackName"] for a in deployments} == set(stacks)
    for action in deployments:
        role = json.dumps(action["RoleArn"])
        assert f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-{region}" in role
        if action["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE":
            assert action["Configuration"]["RoleArn"] == {
                "Fn::Sub": f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-"
                f"{account}-{region}"
            }


@pytest.mark.parametrize("stage", STAGES)
def test_a_smoke_check_follows_every_deployment_of_its_stage(
    delivery: SynthesizedDelivery, stage: str
) -> None:
    config = load_environment(stage)
    actions = delivery.stage(stage)["Actions"]
    (smoke,) = [a for a in actions if a["Name"] == "SmokeCheck"]
    assert smoke["RunOrder"] > max(a["RunOrder"] for a in _actions(delivery.stage(stage), "CloudFormation"))
    target = f"arn:aws:iam::{config.account}:role/keel-{stage}-smoke-check"
    buildspec = _buildspec(delivery, smoke)
    assert buildspec["phases"]["build"]["commands"] == [
        f".venv/bin/keel smoke-check --env {stage} --role-arn {target}"
    ]
    assert buildspec["phases"]["install"]["commands"] == ["make install"]
    # The step's role (tooling account) may assume only this stage's smoke-check role.
    role_id = _project(delivery, smoke)["ServiceRole"]["Fn::GetAtt"][0]
    role = delivery.template["Resources"][role_id]["Properties"]
    assert role["RoleName"] == f"keel-delivery-smoke-{stage}"
    assume = [
        s
        for policy in delivery.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRole"
    ]
    assert assume == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": target}]


@pytest.mark.parametrize("stage", STAGES)
def test_the_smoke_check_role_trusts_only_its_caller_and_reads_what_the_checks_declare(
    delivery: SynthesizedDelivery, stage: str
) -> None:
    config = load_environment(stage)
    template = delivery.stage_templates(stage)[f"Keel-{stage}-SmokeCheck"]
    (role,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert role["RoleName"] == f"keel-{stage}-smoke-check"
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{TOOLING}:role/keel-delivery-smoke-{stage}"}
    }
    assert TOOLING in json.dumps(trust["Principal"])
    (policy,) = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"
    ]
    granted = {
        (action, resource)
        for statement in policy["PolicyDocument"]["Statement"]
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    }
    declared = {(a, r) for p in required_permissions(config) for a in p.actions for r in p.resources}
    assert granted == declared
    assert all(statement["Effect"] == "Allow" for statement in policy["PolicyDocument"]["Statement"])


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_the_synth_step_installs_pinned_tests_and_synthesizes_every_app(
    delivery: SynthesizedDelivery,
) -> None:
    (synth,) = _actions(delivery.stage("Build"), "CodeBuild")
    buildspec = _buildspec(delivery, synth)
    assert buildspec["phases"]["install"]["commands"] == ["make install"]
    assert buildspec["phases"]["install"]["runtime-versions"] == {"python": "3.11", "nodejs": "20"}
    assert (
        buildspec["phases"]["build"]["commands"]
        == list(SYNTH_COMMANDS)
        == [
            "make test",
            ".venv/bin/keel synth-all",
            "npx cdk synth -c env=delivery --output cdk.out",
        ]
    )
    # The primary output is the delivery app's cloud assembly: what UpdatePipeline and the stages deploy.
    assert buildspec["artifacts"]["base-directory"] == "cdk.out"
    (self_mutate,) = _actions(delivery.stage("UpdatePipeline"), "CodeBuild")
    mutate = _buildspec(delivery, self_mutate)
    assert mutate["phases"]["install"]["commands"] == ["npm install -g aws-cdk@2.1148.0"]  # package.json pin
    assert mutate["phases"]["build"]["commands"] == [
        "cdk -a . deploy KeelDelivery --require-approval=never --verbose"
    ]


def test_the_source_is_the_configured_connection(delivery: SynthesizedDelivery) -> None:
    source = load_delivery(read_cdk_context()).source
    (action,) = delivery.stage("Source")["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert action["Configuration"] == {
        "ConnectionArn": source.connection_arn,
        "FullRepositoryId": source.repository,
        "BranchName": source.branch,
        "DetectChanges": True,
    }


def test_artifacts_are_kms_encrypted_with_rotation_and_readable_by_every_stage_account(
    delivery: SynthesizedDelivery,
) -> None:
    store = delivery.pipeline["ArtifactStore"]
    assert store["EncryptionKey"]["Type"] == "KMS"
    key_id = store["EncryptionKey"]["Id"]["Fn::GetAtt"][0]
    key = delivery.template["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    bucket = delivery.template["Resources"][store["Location"]["Ref"]]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert "LoggingConfiguration" in bucket
    decrypters = json.dumps(
        [s["Principal"] for s in key["KeyPolicy"]["Statement"] if "kms:Decrypt" in _listed(s["Action"])]
    )
    for stage in STAGES:
        account = load_environment(stage).account
        assert f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-eu-west-1" in decrypters
    for project in delivery.resources("AWS::CodeBuild::Project").values():
        assert project["Properties"]["EncryptionKey"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_executions_and_waiting_approvals_notify_an_encrypted_topic(delivery: SynthesizedDelivery) -> None:
    (topic_id, topic), *_ = delivery.resources("AWS::SNS::Topic").items()
    assert topic["Properties"]["TopicName"] == "keel-delivery-notifications"
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert delivery.template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    pipeline_id = next(iter(delivery.resources("AWS::CodePipeline::Pipeline")))
    patterns = {}
    for rule in delivery.resources("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": topic_id}
        assert "DeadLetterConfig" in target
        pattern = rule["Properties"]["EventPattern"]
        assert pattern["source"] == ["aws.codepipeline"]
        assert pattern["detail"]["pipeline"] == [{"Ref": pipeline_id}]
        patterns[pattern["detail-type"][0]] = pattern["detail"]
    assert patterns["CodePipeline Pipeline Execution State Change"]["state"] == [
        "FAILED",
        "SUCCEEDED",
        "STOPPED",
        "SUPERSEDED",
    ]
    approvals = patterns["CodePipeline Action Execution State Change"]
    assert approvals["type"] == {"category": ["Approval"]} and approvals["state"] == ["STARTED"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_definition_each_stage_deploys_is_what_its_smoke_check_expects(
    delivery: SynthesizedDelivery, stage: str
) -> None:
    """What CloudFormation will create (the ML template's Fn::Sub, substituted) passes the comparison."""
    from keel.contract import load_contract
    from keel.delivery.definition_check import compare_definitions, expected_definition

    config = load_environment(stage)
    template = delivery.stage_templates(stage)[f"Keel-{stage}-ML"]
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Pipeline"]
    body, variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    key = f"arn:aws:kms:{config.region}:{config.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    image = f"{config.account}.dkr.ecr.{config.region}.amazonaws.com/cdk-hnb659fds-container-assets:abc"
    assert set(variables) == {"ArtifactsKeyArn", "StepImageUri"}
    deployed = json.loads(body.replace("${ArtifactsKeyArn}", key).replace("${StepImageUri}", image))
    expected = expected_definition(config, load_contract(config.contract), kms_key_arn=key, image_uri=image)
    assert compare_definitions(config, expected, deployed, kms_key_arn=key) == []
