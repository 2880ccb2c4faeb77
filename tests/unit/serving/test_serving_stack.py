"""The serving stack's template: the endpoint role, the deployer's events, settings and guard rails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keel.serving.runtime import DeployerSettings, deployer_settings
from tests.unit.monitoring.synth import XDIST_GROUP, Synthesized

pytestmark = pytest.mark.xdist_group(XDIST_GROUP)


def statements(s: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        st.get("Sid", f"#{i}"): st
        for policy in s.resources("Serving", "AWS::IAM::Policy").values()
        for i, st in enumerate(policy["Properties"]["PolicyDocument"]["Statement"])
    }


def test_endpoint_role_reads_models_writes_capture_and_nothing_else(keel_synth: Synthesized) -> None:
    roles = {
        r["Properties"].get("RoleName"): r["Properties"]
        for r in keel_synth.resources("Serving", "AWS::IAM::Role").values()
    }
    role = roles["keel-dev-endpoint"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    found = statements(keel_synth)
    assert found["ReadModelArtifacts"]["Resource"] == (
        "arn:aws:s3:::keel-dev-artifacts-111111111111-eu-west-1/pipeline/keel-dev-training/models/*"
    )
    assert (
        found["WriteDataCapture"]["Resource"]
        == "arn:aws:s3:::keel-dev-reports-111111111111-eu-west-1/data-capture/*"
    )
    assert found["PullStepImage"]["Resource"] == (
        "arn:aws:ecr:eu-west-1:111111111111:repository/cdk-hnb659fds-container-assets-111111111111-eu-west-1"
    )


def test_deployer_is_driven_by_approvals_and_endpoint_state_changes(keel_synth: Synthesized) -> None:
    rules = [
        r["Properties"]["EventPattern"] for r in keel_synth.resources("Serving", "AWS::Events::Rule").values()
    ]
    assert {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["keel-dev-models"], "ModelApprovalStatus": ["Approved"]},
    } in rules
    assert {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Endpoint State Change"],
        "detail": {"EndpointName": ["keel-dev-endpoint"]},
    } in rules
    for rule in keel_synth.resources("Serving", "AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8


def test_deployer_settings_reach_the_function(keel_synth: Synthesized) -> None:
    (function,) = keel_synth.resources("Serving", "AWS::Lambda::Function").values()
    properties = function["Properties"]
    assert properties["ReservedConcurrentExecutions"] == 1
    settings = DeployerSettings.model_validate_json(
        properties["Environment"]["Variables"]["KEEL_DEPLOYER_SETTINGS"]
    )
    assert settings == deployer_settings(keel_synth.config)
    assert settings.rollback_alarms == ("keel-dev-system-endpoint-5xx", "keel-dev-system-endpoint-latency")
    assert settings.capture_uri == "s3://keel-dev-reports-111111111111-eu-west-1/data-capture"


def test_deployer_cannot_create_unisolated_models_or_unencrypted_configs(keel_synth: Synthesized) -> None:
    found = statements(keel_synth)
    assert found["DenyModelsWithoutNetworkIsolation"]["Condition"] == {
        "Bool": {"sagemaker:NetworkIsolation": "false"}
    }
    assert found["DenyModelsWithNetworkIsolationUnset"]["Condition"] == {
        "Null": {"sagemaker:NetworkIsolation": "true"}
    }
    assert found["DenyEndpointConfigsWithoutKey"]["Condition"] == {"Null": {"sagemaker:VolumeKmsKey": "true"}}
    assert all(
        found[s]["Effect"] == "Deny"
        for s in ("DenyModelsWithoutNetworkIsolation", "DenyEndpointConfigsWithoutKey")
    )
    assert found["PassEndpointRole"]["Resource"] == "arn:aws:iam::111111111111:role/keel-dev-endpoint"
    assert found["PassEndpointRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    endpoint = "arn:aws:sagemaker:eu-west-1:111111111111:endpoint/keel-dev-endpoint"
    assert endpoint in found["DeployEndpoint"]["Resource"]
    assert found["ReadRollbackAlarms"]["Resource"] == [
        "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:keel-dev-system-endpoint-5xx",
        "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:keel-dev-system-endpoint-latency",
    ]


def test_deployer_alarms(keel_synth: Synthesized) -> None:
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in keel_synth.resources("Serving", "AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == {f"keel-dev-system-model-deployer-{w}" for w in ("errors", "throttles", "dlq")}
    topic = "arn:aws:sns:eu-west-1:111111111111:keel-dev-alerts"
    assert all(a["AlarmActions"] == [topic] for a in alarms.values())
    assert (
        json.dumps(alarms["keel-dev-system-model-deployer-errors"]["Dimensions"]).count("FunctionName") == 1
    )
