"""Env `local` on Keel's local AWS with the real CDK CLI: bootstrap, deploy every stack, a no-change diff, an
update and a destroy — and after each step the state checked through the services' own APIs (a green
deploy alone proves nothing on moto).

Slow (two in-process synths and five CDK CLI runs): marked `slow`; CI runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.commands.synth import synth_environment
from keel.config import OVERRIDES_KEY, load_environment
from keel.contract import glue_columns, load_contract
from keel.definition_policy import job_violations
from keel.local import inventory, process
from keel.local.cdk import CDK_BIN, CdkCli
from keel.naming import (
    DATA_EVENT_BUCKETS,
    BucketPurpose,
    KeyPurpose,
    bucket_name,
    glue_database_name,
    key_alias,
    model_package_group_name,
    pipeline_name,
    trail_name,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.integration,
    pytest.mark.xdist_group("e2e-deploy"),
    pytest.mark.skipif(not CDK_BIN.exists(), reason="the pinned CDK CLI is not installed (npm ci)"),
]
UPDATE = {"retention": {"log_days": 14}}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("local-deploy")
    config = load_environment("local")
    paths = process.StatePaths(root / "state")
    server, _ = process.start(paths, account_id=config.account, region=config.region)
    try:
        # Synthesize in this process (one jsii start), then let the CLI deploy the assemblies.
        first, second = root / "assembly-1", root / "assembly-2"
        synth_environment("local", first)
        synth_environment("local", second, {OVERRIDES_KEY: json.dumps(UPDATE)})

        def cli(assembly: Path) -> CdkCli:
            return CdkCli(server.endpoint_url, config.account, config.region, root / "out", app=str(assembly))

        cli(first).bootstrap(capture=True)
        cli(first).deploy(capture=True)
        yield {
            "config": config,
            "clients": inventory.Clients(server.endpoint_url, server.region),
            "cli": cli,
            "first": first,
            "second": second,
        }
    finally:
        process.stop(paths)


def _alias_target(clients: Any, alias: str) -> str:
    return clients.kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]


def test_every_stack_is_deployed_and_inventoried(deployed: dict[str, Any]) -> None:
    clients = deployed["clients"]
    stacks = {s["StackName"]: s["StackStatus"] for s in clients.cloudformation.describe_stacks()["Stacks"]}
    keel = {name: status for name, status in stacks.items() if name.startswith("Keel-local-")}
    assert {"Keel-local-Security", "Keel-local-Data", "Keel-local-ML"} <= set(keel)
    assert set(keel.values()) == {"CREATE_COMPLETE"}
    rows = inventory.collect(clients)
    missing = [row for row in rows if row.facts.startswith("MISSING")]
    assert not missing, inventory.render(missing)


def test_keys_rotate(deployed: dict[str, Any]) -> None:
    clients, config = deployed["clients"], deployed["config"]
    for purpose in KeyPurpose:
        key = clients.kms.describe_key(KeyId=key_alias(config, purpose))["KeyMetadata"]
        assert key["KeyState"] == "Enabled"
        assert clients.kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True


def test_buckets_as_the_s3_api_reports_them(deployed: dict[str, Any]) -> None:
    clients, config = deployed["clients"], deployed["config"]
    s3 = clients.s3
    access_logs = bucket_name(config, BucketPurpose.ACCESS_LOGS)
    data_key = _alias_target(clients, key_alias(config, KeyPurpose.DATA))
    for purpose in (
        BucketPurpose.RAW,
        BucketPurpose.CURATED,
        BucketPurpose.FEEDBACK,
        BucketPurpose.ARTIFACTS,
        BucketPurpose.REPORTS,
        BucketPurpose.EVIDENCE,
    ):
        name = bucket_name(config, purpose)
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", name
        assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled", name
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert all(block.values()), name
        logging = s3.get_bucket_logging(Bucket=name)["LoggingEnabled"]
        assert logging["TargetBucket"] == access_logs and logging["TargetPrefix"] == f"{name}/"
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        assert any(
            st["Effect"] == "Deny" and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for st in policy["Statement"]
        ), name
        if purpose in DATA_EVENT_BUCKETS:
            assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == data_key
    lock = s3.get_object_lock_configuration(Bucket=bucket_name(config, BucketPurpose.EVIDENCE))
    retention = lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "GOVERNANCE" and retention["Days"] == config.retention.evidence_days
    raw_events = s3.get_bucket_notification_configuration(Bucket=bucket_name(config, BucketPurpose.RAW))
    assert "EventBridgeConfiguration" in raw_events


def test_trail_logs_validated_encrypted_with_data_events(deployed: dict[str, Any]) -> None:
    clients, config = deployed["clients"], deployed["config"]
    name = trail_name(config)
    trail = clients.cloudtrail.get_trail(Name=name)["Trail"]
    assert trail["LogFileValidationEnabled"] is True and trail["IsMultiRegionTrail"] is True
    assert trail["KmsKeyId"] == _alias_target(clients, key_alias(config, KeyPurpose.LOGS))
    assert clients.cloudtrail.get_trail_status(Name=name)["IsLogging"] is True
    selectors = clients.cloudtrail.get_event_selectors(TrailName=name)["EventSelectors"]
    values = {v for s in selectors for r in s.get("DataResources", []) for v in r["Values"]}
    assert values == {f"arn:aws:s3:::{bucket_name(config, p)}/" for p in DATA_EVENT_BUCKETS}
    groups = clients.logs.describe_log_groups(logGroupNamePrefix="/keel/local/cloudtrail")["logGroups"]
    assert groups[0]["kmsKeyId"] and groups[0]["retentionInDays"] == config.retention.log_days


def test_macie_is_enabled_and_classifies_the_data_buckets(deployed: dict[str, Any]) -> None:
    clients, config = deployed["clients"], deployed["config"]
    assert clients.macie2.get_macie_session()["status"] == "ENABLED"
    jobs = clients.macie2.list_classification_jobs()["items"]
    job = clients.macie2.describe_classification_job(jobId=jobs[0]["jobId"])
    buckets = job["s3JobDefinition"]["bucketDefinitions"][0]["buckets"]
    assert sorted(buckets) == sorted(
        bucket_name(config, p) for p in (BucketPurpose.RAW, BucketPurpose.FEEDBACK)
    )


def test_glue_catalog_matches_the_contract(deployed: dict[str, Any]) -> None:
    clients, config = deployed["clients"], deployed["config"]
    contract = load_contract(config.contract)
    table = clients.glue.get_table(DatabaseName=glue_database_name(config), Name="wine_quality_raw")["Table"]
    columns = [{"name": c["Name"], "type": c["Type"]} for c in table["StorageDescriptor"]["Columns"]]
    assert columns == [{"name": c["name"], "type": c["type"]} for c in glue_columns(contract)]
    settings = clients.glue.get_data_catalog_encryption_settings()["DataCatalogEncryptionSettings"]
    assert settings["EncryptionAtRest"]["CatalogEncryptionMode"] == "SSE-KMS"


def test_pipeline_and_registry(deployed: dict[str, Any]) -> None:
    clients, config = deployed["clients"], deployed["config"]
    described = clients.sagemaker.describe_pipeline(PipelineName=pipeline_name(config))
    definition = json.loads(described["PipelineDefinition"])
    artifacts_key = _alias_target(clients, key_alias(config, KeyPurpose.ARTIFACTS))
    assert job_violations(definition, kms_key_arn=artifacts_key) == []
    group = clients.sagemaker.describe_model_package_group(
        ModelPackageGroupName=model_package_group_name(config)
    )
    assert group["ModelPackageGroupStatus"] == "Completed"


def test_alarms_exist(deployed: dict[str, Any]) -> None:
    alarms = deployed["clients"].cloudwatch.describe_alarms(AlarmNamePrefix="keel-local-")["MetricAlarms"]
    assert alarms, "Keel's alarms (Lambda errors, ...) are deployed"


def test_no_change_diff_update_and_destroy(deployed: dict[str, Any]) -> None:
    clients, config, cli = deployed["clients"], deployed["config"], deployed["cli"]
    diff = cli(deployed["first"]).diff(capture=True)
    assert "There were no differences" in diff.stdout + diff.stderr
    cli(deployed["second"]).deploy(capture=True)
    groups = clients.logs.describe_log_groups(logGroupNamePrefix="/keel/local/cloudtrail")["logGroups"]
    assert groups[0]["retentionInDays"] == UPDATE["retention"]["log_days"]
    cli(deployed["second"]).destroy(capture=True)
    remaining = [s["StackName"] for s in clients.cloudformation.describe_stacks()["Stacks"]]
    assert [name for name in remaining if name.startswith("Keel-local-")] == []
    buckets = [b["Name"] for b in clients.s3.list_buckets()["Buckets"]]
    # Only the access-log buckets stay: access logs are retained audit records by design.
    assert sorted(b for b in buckets if b.startswith(config.prefix)) == sorted(
        bucket_name(config, p) for p in (BucketPurpose.ACCESS_LOGS, BucketPurpose.AUDIT_ACCESS_LOGS)
    ), buckets
    keel_keys = [
        clients.kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in clients.kms.list_keys()["Keys"]
    ]
    keel_keys = [k for k in keel_keys if k.get("Description", "").startswith("Keel ")]
    assert keel_keys and {k["KeyState"] for k in keel_keys} == {"PendingDeletion"}
