"""AWS::CloudTrail::Trail on the local server, checked through the CloudTrail API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration


def _template(bucket: str, trail: str, *, version: int) -> dict[str, Any]:
    trail_properties: dict[str, Any] = {
        "TrailName": trail,
        "S3BucketName": {"Ref": "Bucket"},
        "S3KeyPrefix": "audit",
        "IsLogging": version == 1,
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "EnableLogFileValidation": True,
        "KMSKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
        "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": ["Logs", "Arn"]},
        "CloudWatchLogsRoleArn": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/trail-to-logs"},
        "Tags": [{"Key": "version", "Value": str(version)}],
    }
    if version == 1:
        trail_properties["EventSelectors"] = [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}-data/"]}],
            }
        ]
    else:
        trail_properties["AdvancedEventSelectors"] = [
            {
                "Name": "data events on the raw bucket",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{bucket}-data/"]},
                ],
            }
        ]
    return {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}},
            "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": trail_properties},
        },
        "Outputs": {
            "TrailRef": {"Value": {"Ref": "Trail"}},
            "TrailArn": {"Value": {"Fn::GetAtt": ["Trail", "Arn"]}},
            "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
        },
    }


def test_trail_with_selectors_encryption_and_logging_state(moto_server: Any) -> None:
    cfn, cloudtrail = moto_server.client("cloudformation"), moto_server.client("cloudtrail")
    suffix = uuid.uuid4().hex[:8]
    bucket, trail, stack = f"keel-trail-{suffix}", f"keel-audit-{suffix}", f"trail-{suffix}"

    outputs = cfn_deploy.outputs(cfn_deploy.deploy(cfn, stack, _template(bucket, trail, version=1)))
    assert outputs["TrailRef"] == trail
    (described,) = cloudtrail.describe_trails(trailNameList=[trail])["trailList"]
    assert described["TrailARN"] == outputs["TrailArn"]
    assert (described["S3BucketName"], described["S3KeyPrefix"]) == (bucket, "audit")
    assert described["IsMultiRegionTrail"] is True
    assert described["LogFileValidationEnabled"] is True
    assert described["KmsKeyId"] == outputs["KeyArn"]
    assert described["CloudWatchLogsLogGroupArn"].startswith("arn:aws:logs:")
    assert described["HasCustomEventSelectors"] is True
    assert cloudtrail.get_trail_status(Name=trail)["IsLogging"] is True  # started, as CloudFormation does
    selectors = cloudtrail.get_event_selectors(TrailName=trail)
    (selector,) = selectors["EventSelectors"]
    assert selector["DataResources"] == [
        {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}-data/"]}
    ]
    tags = cloudtrail.list_tags(ResourceIdList=[outputs["TrailArn"]])["ResourceTagList"][0]["TagsList"]
    assert tags == [{"Key": "version", "Value": "1"}]

    cfn_deploy.deploy(cfn, stack, _template(bucket, trail, version=2))
    assert cloudtrail.get_trail_status(Name=trail)["IsLogging"] is False
    selectors = cloudtrail.get_event_selectors(TrailName=trail)
    assert not selectors.get("EventSelectors")
    (advanced,) = selectors["AdvancedEventSelectors"]
    assert advanced["Name"] == "data events on the raw bucket"
    tags = cloudtrail.list_tags(ResourceIdList=[outputs["TrailArn"]])["ResourceTagList"][0]["TagsList"]
    assert tags == [{"Key": "version", "Value": "2"}]

    cfn_deploy.delete(cfn, stack)
    with pytest.raises(ClientError, match="TrailNotFound"):
        cloudtrail.get_trail_status(Name=trail)
