"""The local runner on moto: the shipped white-wine data trains and registers a model with a full lineage
record; corrupted data stops at validation with the reason and its rows quarantined."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from keel.config import PROJECT_ROOT, load_environment
from keel.contract import load_contract
from keel.lineage.record import LineageRecord
from keel.naming import (
    BucketPurpose,
    KeyPurpose,
    bucket_name,
    key_alias,
    model_package_group_name,
    pipeline_name,
)
from keel.runner.local_run import land_file, run_training
from pipeline_steps.definition import pipeline_definition, targets_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("runner")]
WHITE = PROJECT_ROOT / "data" / "wine-quality" / "winequality-white.csv"


@pytest.fixture(scope="module")
def account() -> Iterator[dict[str, Any]]:
    """A local account with what the runner needs: buckets, the artifacts key, the registry, the pipeline."""
    with mock_aws():
        config = load_environment("local")
        s3, sagemaker, kms = (boto3.client(s, region_name=config.region) for s in ("s3", "sagemaker", "kms"))
        for purpose in BucketPurpose:
            s3.create_bucket(Bucket=bucket_name(config, purpose))
            s3.put_bucket_versioning(
                Bucket=bucket_name(config, purpose), VersioningConfiguration={"Status": "Enabled"}
            )
        key_arn = kms.create_key()["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName=key_alias(config, KeyPurpose.ARTIFACTS), TargetKeyId=key_arn)
        definition = pipeline_definition(
            config,
            load_contract(),
            targets_for(config, kms_key_arn=key_arn, image_uri=config.training.image_uri),
        )
        sagemaker.create_model_package_group(ModelPackageGroupName=model_package_group_name(config))
        sagemaker.create_pipeline(
            PipelineName=pipeline_name(config),
            PipelineDefinition=json.dumps(definition),
            RoleArn=f"arn:aws:iam::{config.account}:role/keel-local-pipeline",
        )
        yield {"config": config, "s3": s3, "sagemaker": sagemaker, "key_arn": key_arn}


def _run(account: dict[str, Any], data: Path, workdir: Path) -> Any:
    uri, version = land_file(account["s3"], account["config"], data)
    return run_training(
        account["config"],
        sagemaker=account["sagemaker"],
        s3=account["s3"],
        data_uri=uri,
        data_version=version,
        workdir=workdir,
    )


def test_white_wine_trains_registers_and_records_lineage(account: dict[str, Any], tmp_path: Path) -> None:
    run = _run(account, WHITE, tmp_path)
    result, record = run.result, run.record
    assert result.status == "Succeeded", result.failure_reason
    assert [s.name for s in result.steps][-2:] == ["QualityGate", "RegisterModel"]
    assert {s.status for s in result.steps} == {"Succeeded"}
    package = account["sagemaker"].describe_model_package(ModelPackageName=result.model_package_arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["CustomerMetadataProperties"]["keel:execution_id"] == result.execution_id
    metrics_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = metrics_uri[5:].split("/", 1)
    evaluation = json.loads(account["s3"].get_object(Bucket=bucket, Key=key)["Body"].read())
    accuracy = evaluation["multiclass_classification_metrics"]["accuracy"]["value"]
    assert accuracy >= account["config"].thresholds.min_accuracy
    # Outputs are encrypted with the job's output key, as SageMaker would.
    head = account["s3"].head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == account["key_arn"]
    # The lineage record is in the reports bucket and complete.
    bucket, key = run.record_uri[5:].split("/", 1)
    stored = LineageRecord.model_validate_json(
        account["s3"].get_object(Bucket=bucket, Key=key)["Body"].read()
    )
    assert stored == record
    assert record.inputs[0].uri.endswith("winequality-white.csv") and record.inputs[0].version_id
    assert len(record.inputs[0].sha256) == 64
    assert record.validation and record.validation["success"] is True and record.validation["rows"] == 4898
    assert record.metrics == evaluation
    assert record.drift is not None
    assert record.parameters["InputObjectVersion"] == record.inputs[0].version_id
    assert record.model_package_arn == result.model_package_arn
    assert record.code.source_sha256 and record.contract.version == "1.0.0"


def test_corrupted_data_stops_at_validation_with_the_reason(account: dict[str, Any], tmp_path: Path) -> None:
    lines = WHITE.read_text().splitlines()
    corrupted = [lines[0], *lines[1:200]]
    corrupted[5] = corrupted[5].replace(corrupted[5].split(",")[10], "95.0", 1)  # alcohol out of range
    corrupted[7] = ",".join(["abc", *corrupted[7].split(",")[1:]])  # fixed acidity not a number
    data = tmp_path / "corrupted.csv"
    data.write_text("\n".join(corrupted) + "\n")
    before = data.read_bytes()
    run = _run(account, data, tmp_path / "work")
    result = run.result
    assert result.status == "Failed"
    assert result.failure_reason and result.failure_reason.startswith("CombineValidation")
    assert [s.name for s in result.steps if s.status == "Skipped"][:2] == ["Preprocess", "Train"]
    assert result.model_package_arn is None
    assert run.record.validation and run.record.validation["success"] is False
    assert run.record.validation["quarantined_rows"] == 2
    quarantine = run.record.reports["ValidateData.quarantine"]
    bucket, prefix = quarantine[5:].split("/", 1)
    keys = [o["Key"] for o in account["s3"].list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert any(k.endswith("quarantine.csv") for k in keys)
    assert data.read_bytes() == before  # the input is left untouched
