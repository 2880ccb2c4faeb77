"""AWS::Macie::Session, the Macie2 classification-job API extension and custom resources run by local
Python providers, checked through the Macie2 API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration


def _session(frequency: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Macie::Session",
        "Properties": {"FindingPublishingFrequency": frequency, "Status": "ENABLED"},
    }


def _error_code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def _job(job_type: str, buckets: list[str], account_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "clientToken": uuid.uuid4().hex,
        "name": f"keel-{uuid.uuid4().hex[:6]}",
        "jobType": job_type,
        "s3JobDefinition": {"bucketDefinitions": [{"accountId": account_id, "buckets": buckets}]},
        **extra,
    }


def test_macie_session_and_classification_job_custom_resource(moto_server: Any) -> None:
    cfn, macie = moto_server.client("cloudformation"), moto_server.client("macie2")
    stack = f"macie-{uuid.uuid4().hex[:8]}"
    # Accounts start with Macie disabled, as in AWS (moto started them enabled).
    assert _error_code(macie.get_macie_session) == "AccessDeniedException"

    def template(frequency: str, buckets: list[str]) -> dict[str, Any]:
        return {
            "Resources": {
                "Session": _session(frequency),
                "Job": {
                    "Type": "Custom::KeelTestMacieJob",
                    "DependsOn": "Session",
                    "Properties": {
                        "ServiceToken": {
                            "Fn::Sub": "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:p"
                        },
                        "JobName": f"{stack}-classification",
                        "AccountId": {"Ref": "AWS::AccountId"},
                        "Buckets": buckets,
                        "InitialRun": True,  # reaches the provider as "true", as from CloudFormation
                    },
                },
            },
            "Outputs": {
                "JobId": {"Value": {"Ref": "Job"}},
                "JobArn": {"Value": {"Fn::GetAtt": ["Job", "JobArn"]}},
                "Account": {"Value": {"Ref": "Session"}},
            },
        }

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, template("SIX_HOURS", ["raw"])))
    assert outputs["Account"] == moto_server.account_id
    session = macie.get_macie_session()
    assert (session["status"], session["findingPublishingFrequency"]) == ("ENABLED", "SIX_HOURS")
    job = macie.describe_classification_job(jobId=outputs["JobId"])
    assert job["jobArn"] == outputs["JobArn"]
    assert (job["jobType"], job["jobStatus"], job["initialRun"]) == ("SCHEDULED", "RUNNING", True)
    assert job["s3JobDefinition"]["bucketDefinitions"][0]["buckets"] == ["raw"]

    # An update that makes the provider replace the job: CloudFormation's cleanup deletes the old one.
    updated = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, template("ONE_HOUR", ["raw", "feedback"])))
    assert updated["JobId"] != outputs["JobId"]
    assert macie.get_macie_session()["findingPublishingFrequency"] == "ONE_HOUR"
    assert macie.describe_classification_job(jobId=outputs["JobId"])["jobStatus"] == "CANCELLED"
    new_job = macie.describe_classification_job(jobId=updated["JobId"])
    assert new_job["s3JobDefinition"]["bucketDefinitions"][0]["buckets"] == ["raw", "feedback"]

    cfn_deploy.delete(cfn, stack)
    # The session is gone, and with it the jobs (disabling Macie deletes them, as in AWS).
    assert _error_code(macie.get_macie_session) == "AccessDeniedException"


def test_classification_job_api(moto_server: Any) -> None:
    cfn, macie = moto_server.client("cloudformation"), moto_server.client("macie2")
    stack = f"macie-api-{uuid.uuid4().hex[:8]}"
    account = moto_server.account_id
    assert _error_code(lambda: macie.create_classification_job(**_job("ONE_TIME", ["raw"], account))) == (
        "AccessDeniedException"
    )
    cfn_deploy.deploy(cfn, stack, {"Resources": {"Session": _session("FIFTEEN_MINUTES")}})
    try:
        once = macie.create_classification_job(**_job("ONE_TIME", ["raw"], account))
        request = _job(
            "SCHEDULED", ["feedback"], account, scheduleFrequency={"weeklySchedule": {"dayOfWeek": "MONDAY"}}
        )
        weekly = macie.create_classification_job(**request)
        assert macie.create_classification_job(**request)["jobId"] == weekly["jobId"]  # same clientToken
        assert _error_code(lambda: macie.create_classification_job(**_job("SCHEDULED", ["x"], account))) == (
            "ValidationException"  # a scheduled job needs a schedule
        )
        assert macie.describe_classification_job(jobId=once["jobId"])["jobStatus"] == "RUNNING"
        assert macie.describe_classification_job(jobId=weekly["jobId"])["jobStatus"] == "IDLE"

        macie.update_classification_job(jobId=weekly["jobId"], jobStatus="USER_PAUSED")
        scheduled = macie.list_classification_jobs(
            filterCriteria={"includes": [{"comparator": "EQ", "key": "jobType", "values": ["SCHEDULED"]}]}
        )["items"]
        mine = [j for j in scheduled if j["jobId"] in (once["jobId"], weekly["jobId"])]
        assert [(j["jobId"], j["jobStatus"]) for j in mine] == [(weekly["jobId"], "USER_PAUSED")]
        assert mine[0]["bucketDefinitions"] == [{"accountId": account, "buckets": ["feedback"]}]

        macie.update_classification_job(jobId=weekly["jobId"], jobStatus="CANCELLED")
        assert _error_code(
            lambda: macie.update_classification_job(jobId=weekly["jobId"], jobStatus="RUNNING")
        ) == (
            "ValidationException"  # CANCELLED is final
        )
        assert (
            _error_code(lambda: macie.describe_classification_job(jobId="0" * 32))
            == "ResourceNotFoundException"
        )
    finally:
        cfn_deploy.delete(cfn, stack)


def test_a_failing_provider_rolls_the_stack_back_with_its_message(moto_server: Any) -> None:
    cfn = moto_server.client("cloudformation")
    stack = f"custom-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {"Thing": {"Type": "Custom::KeelTestFailing", "Properties": {"ServiceToken": "arn"}}}
    }
    with pytest.raises(cfn_deploy.StackError, match="provider refuses Create") as raised:
        cfn_deploy.deploy(cfn, stack, template)
    assert raised.value.status == "ROLLBACK_COMPLETE"
    cfn.delete_stack(StackName=stack)


def test_an_unregistered_custom_resource_fails_fast(moto_server: Any) -> None:
    cfn = moto_server.client("cloudformation")
    stack = f"custom-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {"Thing": {"Type": "Custom::NobodyKnows", "Properties": {"ServiceToken": "arn"}}}
    }
    with pytest.raises(cfn_deploy.StackError, match="no local provider"):
        cfn_deploy.deploy(cfn, stack, template)  # instead of hanging in CREATE_IN_PROGRESS
    cfn.delete_stack(StackName=stack)


def test_keel_macie_job_provider_runs_locally(moto_server: Any) -> None:
    """Keel's own provider, registered for Custom::KeelMacieClassificationJob, against the local Macie.

    The properties are the provider's own contract: this only checks that the stack deploys and deletes
    and that a job exists in between.
    """
    cfn, macie = moto_server.client("cloudformation"), moto_server.client("macie2")
    stack = f"keel-macie-{uuid.uuid4().hex[:8]}"
    template = {
        "Resources": {
            "Session": _session("SIX_HOURS"),
            "Job": {
                "Type": "Custom::KeelMacieClassificationJob",
                "DependsOn": "Session",
                "Properties": {
                    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
                    "JobName": f"{stack}-classification",
                    "AccountId": {"Ref": "AWS::AccountId"},
                    "BucketNames": ["raw", "feedback"],
                    "Frequency": "DAILY",
                },
            },
        },
        "Outputs": {"JobId": {"Value": {"Ref": "Job"}}},
    }
    job_id = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, template))["JobId"]
    job = macie.describe_classification_job(jobId=job_id)
    assert (job["jobType"], job["jobStatus"]) == ("SCHEDULED", "RUNNING")
    assert job["s3JobDefinition"]["bucketDefinitions"][0]["buckets"] == ["feedback", "raw"]
    del template["Resources"]["Job"]  # removing the resource cancels the job
    template["Outputs"] = {}
    cfn_deploy.deploy(cfn, stack, template)
    assert macie.describe_classification_job(jobId=job_id)["jobStatus"] == "CANCELLED"
    cfn_deploy.delete(cfn, stack)
