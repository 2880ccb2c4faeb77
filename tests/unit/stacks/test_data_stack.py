"""Fine-grained assertions on the data stack: bucket baseline, Object Lock, catalog from the contract."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from keel.contract import glue_columns, glue_partition_keys, load_contract
from keel.naming import BucketPurpose, bucket_name, glue_database_name
from tests.unit.stacks.conftest import resources

pytestmark = pytest.mark.xdist_group("synth")

KMS_BUCKETS = {
    BucketPurpose.RAW: "Data",
    BucketPurpose.CURATED: "Data",
    BucketPurpose.FEEDBACK: "Data",
    BucketPurpose.ARTIFACTS: "Artifacts",
    BucketPurpose.REPORTS: "Artifacts",
    BucketPurpose.EVIDENCE: "Logs",
}


def _buckets_by_name(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        r["Properties"]["BucketName"]: (logical_id, r["Properties"])
        for logical_id, r in resources(template, "AWS::S3::Bucket").items()
    }


def test_every_data_bucket_has_the_baseline(synth) -> None:
    s = synth("dev")
    template = s.template_json("Keel-dev-Data")
    buckets = _buckets_by_name(template)
    access_logs = bucket_name(s.config, BucketPurpose.ACCESS_LOGS)
    assert set(buckets) == {bucket_name(s.config, p) for p in KMS_BUCKETS} | {access_logs}
    for purpose, key in KMS_BUCKETS.items():
        name = bucket_name(s.config, purpose)
        _, props = buckets[name]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        # A weak cross-stack reference (cdk.json: defaultCrossStackReferences) to the security stack's key.
        key_ref = sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetStackOutput"]
        assert key_ref["StackName"] == "Keel-dev-Security"
        assert f"Keys{key}Key" in key_ref["OutputName"], (name, key_ref)
        assert props["LoggingConfiguration"]["LogFilePrefix"] == f"{name}/"
        assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": buckets[access_logs][0]}
        rule = props["LifecycleConfiguration"]["Rules"][0]
        assert (
            rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            == s.config.retention.noncurrent_version_days
        )
        assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7


def test_every_bucket_denies_requests_without_tls(synth) -> None:
    s = synth("dev")
    template = s.template_json("Keel-dev-Data")
    policies = resources(template, "AWS::S3::BucketPolicy")
    covered = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny"
                covered.add(policy["Properties"]["Bucket"]["Ref"])
    assert covered == set(resources(template, "AWS::S3::Bucket"))


def test_evidence_bucket_has_governance_object_lock_from_config(synth) -> None:
    s = synth("prod")
    template = s.template("Keel-prod-Data")
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": bucket_name(s.config, BucketPurpose.EVIDENCE),
            "ObjectLockEnabled": True,
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {
                    "DefaultRetention": {"Mode": "GOVERNANCE", "Days": s.config.retention.evidence_days}
                },
            },
        },
    )


def test_raw_and_feedback_publish_to_eventbridge_without_custom_resources(synth) -> None:
    s = synth("dev")
    buckets = _buckets_by_name(s.template_json("Keel-dev-Data"))
    for purpose in (BucketPurpose.RAW, BucketPurpose.FEEDBACK):
        _, props = buckets[bucket_name(s.config, purpose)]
        assert props["NotificationConfiguration"] == {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }
    _, curated = buckets[bucket_name(s.config, BucketPurpose.CURATED)]
    assert "NotificationConfiguration" not in curated
    custom = [
        r["Type"]
        for r in s.template_json("Keel-dev-Data")["Resources"].values()
        if r["Type"].startswith("Custom::")
    ]
    assert custom == ["Custom::KeelMacieClassificationJob"]


def test_retain_outside_local_and_dev(synth) -> None:
    for env_name, policy in (("prod", "Retain"), ("staging", "Retain"), ("local", "Delete")):
        template = synth(env_name).template_json(f"Keel-{env_name}-Data")
        for logical_id, bucket in resources(template, "AWS::S3::Bucket").items():
            # Access logs are audit records: retained in every environment.
            expected = "Retain" if "AccessLogs" in logical_id else policy
            assert bucket["DeletionPolicy"] == expected, (env_name, logical_id)


def test_glue_tables_are_generated_from_the_contract(synth) -> None:
    s = synth("dev")
    contract = load_contract(s.config.contract)
    template = s.template("Keel-dev-Data")
    template.has_resource_properties(
        "AWS::Glue::Database",
        {"DatabaseInput": {"Name": glue_database_name(s.config), "Description": Match.any_value()}},
    )
    tables = resources(s.template_json("Keel-dev-Data"), "AWS::Glue::Table")
    assert {t["Properties"]["TableInput"]["Name"] for t in tables.values()} == {
        "wine_quality_raw",
        "wine_quality_curated",
    }
    for table in tables.values():
        table_input = table["Properties"]["TableInput"]
        assert table_input["StorageDescriptor"]["Columns"] == [
            {k.capitalize(): v for k, v in column.items()} for column in glue_columns(contract)
        ]
        assert table_input["PartitionKeys"] == [
            {k.capitalize(): v for k, v in key.items()} for key in glue_partition_keys(contract)
        ]
        assert table_input["Parameters"]["keel:contract_version"] == contract.version
    raw = next(t for t in tables.values() if t["Properties"]["TableInput"]["Name"] == "wine_quality_raw")
    raw_bucket_id = _buckets_by_name(s.template_json("Keel-dev-Data"))[
        bucket_name(s.config, BucketPurpose.RAW)
    ][0]
    assert raw["Properties"]["TableInput"]["StorageDescriptor"]["Location"] == {
        "Fn::Join": ["", ["s3://", {"Ref": raw_bucket_id}, f"/{contract.landing_prefix}"]]
    }


def test_glue_catalog_and_jobs_are_encrypted_with_keel_keys(synth) -> None:
    template = synth("dev").template("Keel-dev-Data")
    template.has_resource_properties(
        "AWS::Glue::DataCatalogEncryptionSettings",
        {
            "DataCatalogEncryptionSettings": {
                "EncryptionAtRest": {"CatalogEncryptionMode": "SSE-KMS", "SseAwsKmsKeyId": Match.any_value()},
                "ConnectionPasswordEncryption": {
                    "ReturnConnectionPasswordEncrypted": True,
                    "KmsKeyId": Match.any_value(),
                },
            }
        },
    )
    template.has_resource_properties(
        "AWS::Glue::SecurityConfiguration",
        {
            "Name": "keel-dev-glue-security",
            "EncryptionConfiguration": {
                "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": Match.any_value()}],
                "CloudWatchEncryption": {
                    "CloudWatchEncryptionMode": "SSE-KMS",
                    "KmsKeyArn": Match.any_value(),
                },
                "JobBookmarksEncryption": {
                    "JobBookmarksEncryptionMode": "CSE-KMS",
                    "KmsKeyArn": Match.any_value(),
                },
            },
        },
    )


def test_macie_job_covers_raw_and_feedback_on_the_configured_schedule(synth) -> None:
    s = synth("prod")
    template = s.template("Keel-prod-Data")
    template.has_resource_properties(
        "Custom::KeelMacieClassificationJob",
        {
            "JobName": "keel-prod-data-classification",
            "AccountId": "333333333333",
            "Frequency": "DAILY",
            "BucketNames": [
                bucket_name(s.config, BucketPurpose.RAW),
                bucket_name(s.config, BucketPurpose.FEEDBACK),
            ],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.11",
            "ReservedConcurrentExecutions": 1,
            "TracingConfig": {"Mode": "Active"},
            "DeadLetterConfig": Match.any_value(),
            "KmsKeyArn": Match.any_value(),
            "Handler": "lambdas.macie_job_provider.handler.lambda_handler",
        },
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": "/aws/lambda/keel-prod-macie-job-provider",
            "KmsKeyId": Match.any_value(),
            "RetentionInDays": 2557,
        },
    )
