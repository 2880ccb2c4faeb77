"""CloudFormation behaviour the CDK CLI depends on (change sets, exports, parameters, deletes), fixed by
Keel's patches and checked through the CloudFormation API of the local server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration

CDK_CHANGE_SET = "cdk-deploy-change-set"  # the CDK uses this one name for every stack


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return dict(raised.value.response["Error"]) | {
        "Status": raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    }


def _topic_template(display: str = "x") -> dict[str, Any]:
    return {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": display}}},
        "Outputs": {"Topic": {"Value": {"Ref": "Topic"}}},
    }


def test_change_sets_with_one_name_stay_scoped_to_their_stack(moto_server: Any) -> None:
    cfn = moto_server.client("cloudformation")
    stacks = [_name("cs-a"), _name("cs-b")]
    ids = {}
    for stack in stacks:
        answer = cfn.create_change_set(
            StackName=stack,
            ChangeSetName=CDK_CHANGE_SET,
            ChangeSetType="CREATE",
            TemplateBody=json.dumps(_topic_template()),
        )
        ids[stack] = answer["StackId"]
    for stack in stacks:
        described = cfn.describe_change_set(StackName=stack, ChangeSetName=CDK_CHANGE_SET)
        assert described["StackId"] == ids[stack]
        assert [c["ResourceChange"]["Action"] for c in described["Changes"]] == ["Add"]
        listed = cfn.list_change_sets(StackName=stack)["Summaries"]
        assert [s["StackId"] for s in listed] == [ids[stack]]

    cfn.delete_change_set(StackName=stacks[0], ChangeSetName=CDK_CHANGE_SET)
    assert (
        cfn.describe_change_set(StackName=stacks[1], ChangeSetName=CDK_CHANGE_SET)["StackId"]
        == ids[stacks[1]]
    )
    cfn.execute_change_set(StackName=stacks[1], ChangeSetName=CDK_CHANGE_SET)
    assert cfn.describe_stacks(StackName=stacks[1])["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.list_change_sets(StackName=stacks[1])["Summaries"] == []  # executed sets are removed
    # The stack whose set was deleted is still waiting for one; a new CREATE set reuses it.
    again = cfn.create_change_set(
        StackName=stacks[0],
        ChangeSetName=CDK_CHANGE_SET,
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(_topic_template()),
    )
    assert again["StackId"] == ids[stacks[0]]
    for stack in stacks:
        cfn.delete_stack(StackName=stack)


def test_unknown_change_sets_answer_as_cloudformation_does(moto_server: Any) -> None:
    cfn = moto_server.client("cloudformation")
    stack = _name("cs-unknown")
    cfn_deploy.deploy(cfn, stack, _topic_template())

    error = _error(lambda: cfn.describe_change_set(StackName=stack, ChangeSetName=CDK_CHANGE_SET))
    assert (error["Code"], error["Status"]) == ("ChangeSetNotFound", 404)
    cfn.delete_change_set(StackName=stack, ChangeSetName=CDK_CHANGE_SET)  # succeeds, as the CDK expects
    error = _error(lambda: cfn.delete_change_set(StackName=_name("missing"), ChangeSetName=CDK_CHANGE_SET))
    assert error["Code"] == "ValidationError"

    # A change set without changes fails with the reason the CDK looks for.
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=CDK_CHANGE_SET,
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(_topic_template()),
    )
    described = cfn.describe_change_set(StackName=stack, ChangeSetName=CDK_CHANGE_SET)
    assert described["Status"] == "FAILED"
    assert "didn't contain changes" in described["StatusReason"]
    cfn_deploy.delete(cfn, stack)


def test_cross_stack_exports_through_change_sets(moto_server: Any) -> None:
    cfn, sns = moto_server.client("cloudformation"), moto_server.client("sns")
    producer, consumer = _name("producer"), _name("consumer")
    export = f"{producer}:TopicArn"
    producer_template = _topic_template() | {
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": export}}}
    }

    def consumer_template(display: str) -> dict[str, Any]:
        return {
            "Resources": {
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
                "Subscription": {
                    "Type": "AWS::SNS::Subscription",
                    "Properties": {
                        "TopicArn": {"Fn::ImportValue": export},
                        "Protocol": "sqs",
                        "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
                    },
                },
                "Other": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": display}},
            },
            "Outputs": {"Imported": {"Value": {"Fn::ImportValue": export}}},
        }

    topic = cfn_deploy.outputs(cfn_deploy.deploy(cfn, producer, producer_template))["TopicArn"]
    assert {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}[export] == topic
    assert cfn_deploy.outputs(cfn_deploy.deploy(cfn, consumer, consumer_template("v1")))["Imported"] == topic
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1
    cfn_deploy.deploy(cfn, consumer, consumer_template("v2"))  # an update still resolves the import

    error = _error(lambda: cfn.delete_stack(StackName=producer))
    assert "in use by" in error["Message"]
    cfn_deploy.delete(cfn, consumer)
    cfn_deploy.delete(cfn, producer)
    assert export not in [e["Name"] for e in cfn.list_exports()["Exports"]]


def test_a_deleted_stack_stays_deleted(moto_server: Any) -> None:
    cfn, s3, kms = (moto_server.client(s) for s in ("cloudformation", "s3", "kms"))
    stack, bucket = _name("deleted"), _name("keel-deleted")
    template = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}},
        },
        "Outputs": {"Bucket": {"Value": {"Ref": "Bucket"}}, "Key": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }
    stack_id = cfn_deploy.deploy(cfn, stack, template)["StackId"]
    keys_before = len(kms.list_keys()["Keys"])
    cfn_deploy.delete(cfn, stack)

    # Reading the deleted stack (as `cdk destroy` does) must not re-create what its outputs reference.
    for _ in range(2):
        described = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        assert described["StackStatus"] == "DELETE_COMPLETE"
        assert not described.get("Outputs")
        assert cfn.list_stack_resources(StackName=stack_id)["StackResourceSummaries"] == []
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert len(kms.list_keys()["Keys"]) == keys_before  # the key stays PendingDeletion, no new one
    cfn.delete_stack(StackName=_name("never-existed"))  # deleting an unknown stack succeeds


def test_ssm_typed_parameters_survive_updates(moto_server: Any) -> None:
    """The CDK's BootstrapVersion parameter: `AWS::SSM::Parameter::Value<String>` with UsePreviousValue."""
    cfn, ssm = moto_server.client("cloudformation"), moto_server.client("ssm")
    stack, parameter = _name("ssm"), f"/keel-test/{uuid.uuid4().hex[:8]}/version"
    ssm.put_parameter(Name=parameter, Value="30", Type="String")

    def template(display: str) -> dict[str, Any]:
        return {
            "Parameters": {
                "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": parameter}
            },
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": display}}},
            "Outputs": {"Version": {"Value": {"Ref": "BootstrapVersion"}}},
        }

    described = cfn_deploy.deploy(cfn, stack, template("v1"))
    assert described["Parameters"] == [
        {"ParameterKey": "BootstrapVersion", "ParameterValue": parameter, "ResolvedValue": "30"}
    ]
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=CDK_CHANGE_SET,
        ChangeSetType="UPDATE",
        TemplateBody=json.dumps(template("v2")),
        Parameters=[{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}],  # what the CDK sends
    )
    cfn.execute_change_set(StackName=stack, ChangeSetName=CDK_CHANGE_SET)
    updated = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    assert cfn_deploy.outputs(updated)["Version"] == "30"
    cfn_deploy.delete(cfn, stack)


def test_a_resource_moto_cannot_update_stays_in_the_stack(moto_server: Any) -> None:
    cfn, dynamodb = moto_server.client("cloudformation"), moto_server.client("dynamodb")
    stack, table = _name("ddb"), _name("keel-idempotency")

    def template(stream: str) -> dict[str, Any]:
        return {
            "Resources": {
                "Table": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "TableName": table,
                        "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                        "Tags": [{"Key": "stream", "Value": stream}],
                    },
                }
            },
            "Outputs": {"Table": {"Value": {"Ref": "Table"}}},
        }

    cfn_deploy.deploy(cfn, stack, template("a"))
    updated = cfn_deploy.deploy(cfn, stack, template("b"))
    assert cfn_deploy.outputs(updated)["Table"] == table  # moto's model has no update: kept, not dropped
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert [r["PhysicalResourceId"] for r in resources] == [table]
    cfn_deploy.delete(cfn, stack)
    assert table not in dynamodb.list_tables()["TableNames"]


def test_template_url_with_an_ip_host(moto_server: Any) -> None:
    cfn, s3 = moto_server.client("cloudformation"), moto_server.client("s3")
    bucket, stack = _name("keel-templates"), _name("by-url")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="t.json", Body=json.dumps(_topic_template()).encode())
    port = moto_server.endpoint_url.rsplit(":", 1)[1]
    cfn.create_stack(StackName=stack, TemplateURL=f"http://127.0.0.1:{port}/{bucket}/t.json")
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cfn_deploy.delete(cfn, stack)
    s3.delete_object(Bucket=bucket, Key="t.json")
    s3.delete_bucket(Bucket=bucket)


# -- CreateStack (not through change sets), as moto's own tests and scripts call it -----------------------
def _stack(cfn: Any, name: str) -> dict[str, Any]:
    stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return stack


def test_create_stack_registers_exports_with_their_values(moto_server: Any) -> None:
    cfn, sqs = moto_server.client("cloudformation"), moto_server.client("sqs")
    producer, consumer = _name("producer"), _name("consumer")
    producer_template = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        },
        "Outputs": {
            "TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": f"{producer}-topic"}},
            "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}, "Export": {"Name": f"{producer}-queue"}},
        },
    }
    consumer_template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}},
        "Outputs": {"Imported": {"Value": {"Fn::ImportValue": f"{producer}-queue"}}},
    }
    cfn.create_stack(StackName=producer, TemplateBody=json.dumps(producer_template))
    outputs = cfn_deploy.outputs(_stack(cfn, producer))
    queue_url = sqs.list_queues(QueueNamePrefix=producer)["QueueUrls"][0]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    assert outputs["QueueArn"] == queue_arn["QueueArn"]
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[f"{producer}-topic"] == outputs["TopicArn"]
    assert exports[f"{producer}-queue"] == outputs["QueueArn"]

    cfn.create_stack(StackName=consumer, TemplateBody=json.dumps(consumer_template))
    assert _stack(cfn, consumer)["StackStatus"] == "CREATE_COMPLETE"
    assert cfn_deploy.outputs(_stack(cfn, consumer))["Imported"] == outputs["QueueArn"]

    again = _error(
        lambda: cfn.create_stack(StackName=_name("again"), TemplateBody=json.dumps(producer_template))
    )
    assert again["Code"] == "ValidationError" and f"{producer}-" in again["Message"]
    cfn_deploy.delete(cfn, consumer)
    cfn_deploy.delete(cfn, producer)


YAML_WITH_UNQUOTED_VERSION = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Policy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: sqs:SendMessage
            Resource: !GetAtt Queue.Arn
            Condition: {Bool: {"aws:SecureTransport": false}}
"""


def test_yaml_policy_with_an_unquoted_version_date(moto_server: Any) -> None:
    cfn, sqs = moto_server.client("cloudformation"), moto_server.client("sqs")
    stack = _name("yaml")
    cfn.create_stack(StackName=stack, TemplateBody=YAML_WITH_UNQUOTED_VERSION)
    assert _stack(cfn, stack)["StackStatus"] == "CREATE_COMPLETE"
    queue = next(
        r
        for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::SQS::Queue"
    )
    policy = sqs.get_queue_attributes(QueueUrl=queue["PhysicalResourceId"], AttributeNames=["Policy"])
    assert json.loads(policy["Attributes"]["Policy"])["Version"] == "2012-10-17"
    cfn_deploy.delete(cfn, stack)


def _unprovided_custom_resource(bucket: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}},
            "Custom": {
                "Type": "Custom::KeelTestNoProvider",
                "DependsOn": "Bucket",  # the bucket exists when the custom resource fails
                "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:nowhere"},
            },
        }
    }


@pytest.mark.parametrize(
    ("options", "status", "bucket_kept"),
    [
        ({}, "ROLLBACK_COMPLETE", False),
        ({"OnFailure": "DELETE"}, "DELETE_COMPLETE", False),
        ({"DisableRollback": True}, "CREATE_FAILED", True),
    ],
)
def test_create_stack_with_a_failing_custom_resource_fails_the_stack(
    moto_server: Any, options: dict[str, Any], status: str, bucket_kept: bool
) -> None:
    cfn, s3 = moto_server.client("cloudformation"), moto_server.client("s3")
    stack, bucket = _name("custom"), _name("keel-custom")
    stack_id = cfn.create_stack(
        StackName=stack, TemplateBody=json.dumps(_unprovided_custom_resource(bucket)), **options
    )["StackId"]  # answered, not an HTTP 500
    described = _stack(cfn, stack_id)
    assert described["StackStatus"] == status
    reason = described["StackStatusReason"]
    assert "Custom::KeelTestNoProvider" in reason and "no local provider" in reason
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    assert any(
        e["ResourceStatus"] == "CREATE_FAILED" and "no local provider" in e.get("ResourceStatusReason", "")
        for e in events
    )
    assert (bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]) is bucket_kept
    if status != "DELETE_COMPLETE":
        cfn.delete_stack(StackName=stack_id)
        assert _stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
