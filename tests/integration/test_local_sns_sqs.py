"""AWS::SNS::TopicPolicy and AWS::SQS::QueuePolicy on the local server, checked through SNS and SQS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration


def _statement(sid: str, service: str, action: str, resource: Any) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": action,
        "Resource": resource,
    }


def _template(*, with_policies: bool, sid: str = "v1") -> dict[str, Any]:
    resources: dict[str, Any] = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
    }
    if with_policies:
        resources["TopicPolicy"] = {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "Topic"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [_statement(sid, "events.amazonaws.com", "sns:Publish", {"Ref": "Topic"})],
                },
            },
        }
        resources["QueuePolicy"] = {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "Queue"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        _statement(
                            sid, "sns.amazonaws.com", "sqs:SendMessage", {"Fn::GetAtt": ["Queue", "Arn"]}
                        )
                    ],
                },
            },
        }
    return {
        "Resources": resources,
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}, "QueueUrl": {"Value": {"Ref": "Queue"}}},
    }


def _topic_sids(sns: Any, arn: str) -> list[str]:
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    return [s.get("Sid", "") for s in policy["Statement"]]


def _queue_sids(sqs: Any, url: str) -> list[str]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    return (
        [s.get("Sid", "") for s in json.loads(attributes["Policy"])["Statement"]]
        if "Policy" in attributes
        else []
    )


def test_topic_and_queue_policies(moto_server: Any) -> None:
    cfn, sns, sqs = (moto_server.client(s) for s in ("cloudformation", "sns", "sqs"))
    stack = f"sns-sqs-{uuid.uuid4().hex[:8]}"

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, _template(with_policies=True)))
    topic, queue = outputs["TopicArn"], outputs["QueueUrl"]
    assert _topic_sids(sns, topic) == ["v1"]
    assert _queue_sids(sqs, queue) == ["v1"]

    cfn_deploy.deploy(cfn, stack, _template(with_policies=True, sid="v2"))
    assert _topic_sids(sns, topic) == ["v2"]
    assert _queue_sids(sqs, queue) == ["v2"]
    # Setting another queue attribute keeps the policy (moto reset it).
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "45"})
    assert _queue_sids(sqs, queue) == ["v2"]

    cfn_deploy.deploy(cfn, stack, _template(with_policies=False))  # policies removed from the stack
    assert _topic_sids(sns, topic) == ["__default_statement_ID"]
    assert _queue_sids(sqs, queue) == []

    cfn_deploy.delete(cfn, stack)
    assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def _subscription_template(*, raw: bool) -> dict[str, Any]:
    return {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Subscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Topic"},
                    "Protocol": "sqs",
                    "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
                    "RawMessageDelivery": raw,
                    "FilterPolicy": {"severity": ["high"]},
                },
            },
        },
        "Outputs": {
            "TopicArn": {"Value": {"Ref": "Topic"}},
            "QueueUrl": {"Value": {"Ref": "Queue"}},
            "Subscription": {"Value": {"Ref": "Subscription"}},
        },
    }


def test_subscription_delivers_with_its_filter_policy(moto_server: Any) -> None:
    cfn, sns, sqs = (moto_server.client(s) for s in ("cloudformation", "sns", "sqs"))
    stack = f"sns-sub-{uuid.uuid4().hex[:8]}"

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, _subscription_template(raw=True)))
    attributes = sns.get_subscription_attributes(SubscriptionArn=outputs["Subscription"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"severity": ["high"]}
    for severity in ("low", "high"):
        sns.publish(
            TopicArn=outputs["TopicArn"],
            Message=f"drift {severity}",
            MessageAttributes={"severity": {"DataType": "String", "StringValue": severity}},
        )
    messages = sqs.receive_message(QueueUrl=outputs["QueueUrl"], MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["drift high"]  # raw delivery, filtered

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, _subscription_template(raw=False)))
    sns.publish(
        TopicArn=outputs["TopicArn"],
        Message="drift high",
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "high"}},
    )
    (message,) = sqs.receive_message(QueueUrl=outputs["QueueUrl"], MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["Message"] == "drift high"  # wrapped in the SNS envelope

    cfn_deploy.delete(cfn, stack)
    assert outputs["Subscription"] not in [
        s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]
    ]
