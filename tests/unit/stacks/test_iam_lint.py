"""IAM lint (parliament) of every synthesized policy: unknown actions, condition keys that do not apply to
their action, resources that cannot match their action. Each finding that stays is acknowledged next to its
construct (stacks.compliance.acknowledge_iam_lint), and each acknowledgment must still match a finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack

from keel.naming import partition
from stacks.compliance import AcknowledgmentRecord, acknowledge_iam_lint, iam_lint_acknowledgments
from tests.unit.stacks.cfn_resolve import UnresolvableError
from tests.unit.stacks.conftest import ENVIRONMENTS, Synthesized
from tests.unit.stacks.iam_lint import (
    KEY_POLICY,
    TRUST_POLICY,
    IamFinding,
    PolicyDocument,
    lint,
    policy_documents,
)

pytestmark = pytest.mark.xdist_group("synth")

_linted: dict[str, tuple[list[PolicyDocument], list[IamFinding]]] = {}


def _lint(synthesized: Synthesized) -> tuple[list[PolicyDocument], list[IamFinding]]:
    """Documents and findings of one environment, computed once per session (like its synth)."""
    name = synthesized.config.name
    if name not in _linted:
        documents = policy_documents(synthesized.outdir, partition(synthesized.config))
        _linted[name] = (documents, lint(documents))
    return _linted[name]


def _records(synthesized: Synthesized) -> list[AcknowledgmentRecord]:
    return iam_lint_acknowledgments(synthesized.stacks.security.node.root)


def _acknowledges(record: AcknowledgmentRecord, finding: IamFinding) -> bool:
    path = finding.policy.construct_path
    return record.rule_id == finding.key and (
        path == record.construct_path or path.startswith(record.construct_path + "/")
    )


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_iam_lint_finding_is_acknowledged(synth, env_name: str) -> None:
    synthesized = synth(env_name)
    documents, findings = _lint(synthesized)
    assert documents
    records = _records(synthesized)
    unacknowledged = [f for f in findings if not any(_acknowledges(r, f) for r in records)]
    assert not unacknowledged, "\n".join(map(str, unacknowledged))


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_iam_lint_acknowledgment_still_matches_a_finding(synth, env_name: str) -> None:
    synthesized = synth(env_name)
    _, findings = _lint(synthesized)
    records = _records(synthesized)
    assert records, "no IAM-lint acknowledgments were recorded"
    stale = [(r.rule_id, r.construct_path) for r in records if not any(_acknowledges(r, f) for f in findings)]
    assert not stale, f"IAM-lint acknowledgments that match no finding: {stale}"


def test_the_lint_reads_every_kind_of_policy_with_its_intrinsics_resolved(synth) -> None:
    documents, _ = _lint(synth("prod"))
    kinds = {document.kind for document in documents}
    resource_policies = {
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        KEY_POLICY,
    }
    assert kinds >= {"AWS::IAM::Policy", TRUST_POLICY, *resource_policies}
    unresolved = [d.construct_path for d in documents if '"Ref"' in _text(d) or '"Fn::' in _text(d)]
    assert not unresolved


def test_the_model_deployer_describes_autoscaling_with_resource_star(synth) -> None:
    """Application Auto Scaling's Describe actions accept only `*`: on scalable-target/* AWS denies them."""
    documents, _ = _lint(synth("prod"))
    (deployer,) = [
        d
        for d in documents
        if d.construct_path.endswith("ModelDeployer/Deployer/Role/DefaultPolicy/Resource")
    ]
    describes = {
        action: statement["Resource"]
        for statement in deployer.document["Statement"]
        for action in _listed(statement["Action"])
        if action.startswith("application-autoscaling:Describe")
    }
    assert describes == dict.fromkeys(
        [
            "application-autoscaling:DescribeScalableTargets",
            "application-autoscaling:DescribeScalingPolicies",
        ],
        "*",
    )


# The lint itself, on small templates (no synth): each kind of finding is reported, keyed as acknowledged.


def _assembly(tmp_path: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    manifest: dict[str, Any] = {"artifacts": {}}
    tree: dict[str, Any] = {"id": "App", "path": "", "children": {}}
    for name, resources in stacks.items():
        (tmp_path / f"{name}.template.json").write_text(json.dumps(resources))
        manifest["artifacts"][name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://123456789012/eu-west-1",
            "properties": {"templateFile": f"{name}.template.json"},
        }
        tree["children"][name] = {
            "id": name,
            "path": name,
            "children": {
                logical_id: {
                    "id": logical_id,
                    "path": f"{name}/{logical_id}/Resource",
                    "attributes": {"aws:cdk:cloudformation:logicalId": logical_id},
                }
                for logical_id in resources["Resources"]
            },
        }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "tree.json").write_text(json.dumps({"tree": tree}))
    return tmp_path


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}},
    }


def _keys(tmp_path: Path, stacks: dict[str, dict[str, Any]]) -> set[str]:
    return {finding.key for finding in lint(policy_documents(_assembly(tmp_path, stacks), "aws"))}


_ACCOUNT_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":application-autoscaling:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":scalable-target/*",
        ],
    ]
}


def test_the_lint_reports_actions_on_resources_they_cannot_take(tmp_path: Path) -> None:
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {}}
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "application-autoscaling:DescribeScalableTargets",
            "Resource": _ACCOUNT_ARN,
        },
        {
            "Effect": "Allow",
            "Action": "application-autoscaling:RegisterScalableTarget",
            "Resource": _ACCOUNT_ARN,
        },
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:GetRecords"],
            "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
        },
    )
    keys = _keys(tmp_path, {"S": {"Resources": {"Table": table, "Policy": policy}}})
    assert keys == {
        "RESOURCE_MISMATCH[application-autoscaling:DescribeScalableTargets]",
        "RESOURCE_MISMATCH[dynamodb:GetRecords]",
    }


def test_the_lint_reports_unknown_actions_and_condition_keys_that_do_not_apply(tmp_path: Path) -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::bucket/*"},
        {
            "Sid": "Describe",
            "Effect": "Allow",
            "Action": "sagemaker:DescribeEndpoint",
            "Resource": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/keel",
            "Condition": {"Bool": {"sagemaker:NetworkIsolation": "true"}},
        },
    )
    keys = _keys(tmp_path, {"S": {"Resources": {"Policy": policy}}})
    assert keys == {
        "UNKNOWN_ACTION[s3:GetObjekt]",
        "UNKNOWN_CONDITION_FOR_ACTION[sagemaker:DescribeEndpoint|sagemaker:NetworkIsolation]",
    }


def test_key_and_trust_policies_are_linted_as_the_resource_s_own_policy(tmp_path: Path) -> None:
    root = {
        "AWS": {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
            ]
        }
    }
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": root,
                        "Action": "kms:*",
                        "Resource": "*",
                    },  # the CDK default
                    {"Effect": "Allow", "Principal": root, "Action": "kms:ListKeys", "Resource": "*"},
                ],
            }
        },
    }
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }
    # A key policy names its key only: kms:* is its key actions, kms:ListKeys (Resource * only) is reported.
    assert _keys(tmp_path, {"S": {"Resources": {"Key": key, "Role": role}}}) == {
        "RESOURCE_MISMATCH[kms:ListKeys]"
    }


def test_references_to_other_stacks_resolve_to_their_outputs(tmp_path: Path) -> None:
    keys = {
        "Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": []}}}},
        "Outputs": {"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }
    reference = {"Fn::GetStackOutput": {"StackName": "Keys", "OutputName": "KeyArn"}}
    policy = _policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": reference})
    documents = policy_documents(
        _assembly(tmp_path, {"Keys": keys, "User": {"Resources": {"Policy": policy}}}), "aws"
    )
    (user,) = [d for d in documents if d.stack == "User"]
    assert user.document["Statement"][0]["Resource"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert not lint([user])


def test_an_unknown_reference_fails_rather_than_passing_unlinted(tmp_path: Path) -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::GetAtt": ["Nowhere", "Arn"]}}
    )
    with pytest.raises(UnresolvableError):
        policy_documents(_assembly(tmp_path, {"S": {"Resources": {"Policy": policy}}}), "aws")


def test_iam_lint_acknowledgments_need_a_reason_and_well_formed_keys() -> None:
    app = App()
    stack = Stack(app, "S")
    with pytest.raises(ValueError, match="reason"):
        acknowledge_iam_lint(stack, "too short", "RESOURCE_MISMATCH[s3:GetObject]")
    with pytest.raises(ValueError, match="ISSUE"):
        acknowledge_iam_lint(stack, "a specific reason, long enough", "s3:GetObject")
    acknowledge_iam_lint(stack, "a specific reason, long enough", "RESOURCE_MISMATCH[s3:GetObject]")
    assert [r.rule_id for r in iam_lint_acknowledgments(app)] == ["RESOURCE_MISMATCH[s3:GetObject]"]


def _text(document: PolicyDocument) -> str:
    return json.dumps(document.document)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
