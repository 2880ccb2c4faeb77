"""The inventory `keel local up|status` prints: facts as the service APIs report them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from keel.local import cfn_deploy, inventory

pytestmark = pytest.mark.integration


def test_inventory_reports_service_facts_and_missing_resources(moto_server: Any) -> None:
    cfn, s3 = moto_server.client("cloudformation"), moto_server.client("s3")
    stack, bucket = f"inventory-{uuid.uuid4().hex[:8]}", f"keel-inv-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": bucket,
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": dict.fromkeys(
                        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"),
                        True,
                    ),
                },
            },
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        }
    }
    cfn_deploy.deploy(cfn, stack, template)
    clients = inventory.Clients(moto_server.endpoint_url, moto_server.region)
    rows = {row.resource_type: row for row in inventory.collect(clients, [stack])}
    assert "versioning Enabled" in rows["AWS::S3::Bucket"].facts
    assert "PAB all" in rows["AWS::S3::Bucket"].facts
    assert "rotation on" in rows["AWS::KMS::Key"].facts
    assert "retention 7 d" in rows["AWS::Logs::LogGroup"].facts

    s3.delete_bucket(Bucket=bucket)  # deleted behind CloudFormation's back
    rows = {row.resource_type: row for row in inventory.collect(clients, [stack])}
    assert rows["AWS::S3::Bucket"].facts.startswith("MISSING")
    text = inventory.render(list(rows.values()))
    assert text.splitlines()[0] == stack
    cfn_deploy.delete(cfn, stack)


def _api_and_policies_template(role: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                },
            },
            "RoleDefaultPolicy": {  # as the CDK's grant*() write it
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "RoleDefaultPolicy1234ABCD",
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
                    },
                },
            },
            "Managed": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
                    },
                },
            },
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": f"{role}-api"}},
            "Method": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                    "HttpMethod": "GET",
                    "AuthorizationType": "NONE",
                    "Integration": {"Type": "MOCK", "IntegrationHttpMethod": "GET", "Uri": ""},
                },
            },
            "Deployment": {
                "Type": "AWS::ApiGateway::Deployment",
                "DependsOn": "Method",
                "Properties": {"RestApiId": {"Ref": "Api"}},
            },
            "Stage": {  # the CDK's RestApi: a Deployment plus a separate Stage
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "DeploymentId": {"Ref": "Deployment"},
                    "StageName": "prod",
                    "TracingEnabled": True,
                    "MethodSettings": [
                        {
                            "ResourcePath": "/*",
                            "HttpMethod": "*",
                            "MetricsEnabled": True,
                            "ThrottlingRateLimit": 5,
                        }
                    ],
                },
            },
        },
        "Outputs": {  # the CDK's Endpoint output
            "Endpoint": {
                "Value": {
                    "Fn::Join": [
                        "",
                        [
                            "https://",
                            {"Ref": "Api"},
                            ".execute-api.",
                            {"Ref": "AWS::Region"},
                            ".",
                            {"Ref": "AWS::URLSuffix"},
                            "/",
                            {"Ref": "Stage"},
                            "/",
                        ],
                    ]
                }
            }
        },
    }


def test_inventory_reports_real_policy_attachments_and_stage_urls(moto_server: Any) -> None:
    cfn, apigateway = moto_server.client("cloudformation"), moto_server.client("apigateway")
    stack, role = f"inventory-{uuid.uuid4().hex[:8]}", f"keel-inv-{uuid.uuid4().hex[:8]}"
    described = cfn_deploy.deploy(cfn, stack, _api_and_policies_template(role))
    api_id = next(
        r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::ApiGateway::RestApi"
    )
    url = inventory.stage_url(api_id, moto_server.region, "prod")
    assert url.startswith(f"https://{api_id}.execute-api.{moto_server.region}.") and url.endswith("/prod/")
    assert cfn_deploy.outputs(described)["Endpoint"] == url  # was .../None/: no stage existed
    stage = apigateway.get_stage(restApiId=api_id, stageName="prod")
    assert stage["tracingEnabled"] is True
    assert stage["methodSettings"]["*/*"] == {"metricsEnabled": True, "throttlingRateLimit": 5.0}

    clients = inventory.Clients(moto_server.endpoint_url, moto_server.region)
    rows = {row.resource_type: row.facts for row in inventory.collect(clients, [stack])}
    assert rows["AWS::IAM::Policy"] == f"inline RoleDefaultPolicy1234ABCD on role {role}, 1 statements"
    assert rows["AWS::IAM::ManagedPolicy"] == f"managed, attached to role {role}"
    assert "stages prod" in rows["AWS::ApiGateway::RestApi"]
    assert url in rows["AWS::ApiGateway::Stage"] and "locally not invocable" in rows["AWS::ApiGateway::Stage"]
    assert moto_server.endpoint_url in rows["AWS::ApiGateway::Stage"]

    iam, policy = moto_server.client("iam"), "RoleDefaultPolicy1234ABCD"
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    iam.delete_role_policy(RoleName=role, PolicyName=policy)
    rows = {row.resource_type: row.facts for row in inventory.collect(clients, [stack])}
    assert rows["AWS::IAM::Policy"].startswith("MISSING")  # checked on the role, not taken from the template
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))
    cfn_deploy.delete(cfn, stack)
