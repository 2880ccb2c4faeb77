"""The local runner on Keel's local AWS: the shipped white-wine data trains and registers a model; corrupted
data stops at validation with the reason and its rows quarantined. The runner writes no record of Keel's own:
the lineage record comes from the recorder (the code the deployed Lambda runs) reading what the local
SageMaker reports — execution, steps, jobs — as it would read AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.config import PROJECT_ROOT, load_environment
from keel.contract import load_contract
from keel.lineage.assemble import DeployedCode, RecordSources
from keel.lineage.record import ContractRef, LineageRecord
from keel.lineage.recorder import LineageRecorder
from keel.local.runner.local_run import land_file, run_training
from keel.naming import (
    BucketPurpose,
    KeyPurpose,
    bucket_name,
    key_alias,
    model_package_group_name,
    pipeline_name,
)
from pipeline_steps.definition import pipeline_definition, targets_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("runner")]
WHITE = PROJECT_ROOT / "data" / "wine-quality" / "winequality-white.csv"


@pytest.fixture(scope="module")
def account(moto_server: Any) -> Iterator[dict[str, Any]]:
    """A local account with what the runner needs: buckets, the artifacts key, the registry, the pipeline."""
    config = load_environment("local")
    s3, sagemaker, kms, events = (moto_server.client(s) for s in ("s3", "sagemaker", "kms", "events"))
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
    # What the runner (standing in for SageMaker) writes to S3: never a record of Keel's own.
    runner_puts: list[str] = []
    s3.meta.events.register(
        "provide-client-params.s3.PutObject", lambda params, **_: runner_puts.append(params["Key"])
    )
    recorder = LineageRecorder(
        sources=RecordSources(
            sagemaker=moto_server.client("sagemaker"),
            s3=moto_server.client("s3"),
            reports_bucket=bucket_name(config, BucketPurpose.REPORTS),
            deployed=DeployedCode(
                environment=config.name,
                contract=ContractRef(name="wine-quality", version="1.0.0", sha256="0" * 64),
                git_commit="abc123",
                git_dirty=False,
                source_sha256="1" * 64,
            ),
        ),
        events=events,
        kms_key_id=key_alias(config, KeyPurpose.ARTIFACTS),
    )
    yield {
        "config": config,
        "s3": s3,
        "sagemaker": sagemaker,
        "key_arn": key_arn,
        "recorder": recorder,
        "runner_puts": runner_puts,
    }


def _run(account: dict[str, Any], data: Path, workdir: Path) -> Any:
    uri, version = land_file(account["s3"], account["config"], data)
    account["runner_puts"].clear()
    result = run_training(
        account["config"],
        sagemaker=account["sagemaker"],
        s3=account["s3"],
        data_uri=uri,
        data_version=version,
        workdir=workdir,
    )
    assert not [k for k in account["runner_puts"] if k.startswith("lineage/")]
    outcome = account["recorder"].record(result.execution_arn)
    bucket, key = outcome["record_uri"][5:].split("/", 1)
    record = LineageRecord.model_validate_json(
        account["s3"].get_object(Bucket=bucket, Key=key)["Body"].read()
    )
    return result, record, outcome


def test_white_wine_trains_registers_and_records_lineage(account: dict[str, Any], tmp_path: Path) -> None:
    result, record, outcome = _run(account, WHITE, tmp_path)
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
    # The lineage record, assembled from the services' answers, is complete.
    assert (
        outcome["execution_status"] == "Succeeded"
        and outcome["model_package_arn"] == result.model_package_arn
    )
    assert record.execution_arn == result.execution_arn and record.status == "Succeeded"
    assert record.trigger.source == "cli" and record.trigger.reason == "manual run"
    assert [s.name for s in record.steps] == [s.name for s in result.steps]
    assert all(s.job_name for s in record.steps if s.type in ("Processing", "Training"))
    assert record.reports["Train.model"].endswith("/output/model.tar.gz")
    assert record.code.image_uri == account["config"].training.image_uri
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
    result, record, _ = _run(account, data, tmp_path / "work")
    assert result.status == "Failed"
    assert result.failure_reason and result.failure_reason.startswith("CombineValidation")
    assert [s.name for s in result.steps if s.status == "Skipped"][:2] == ["Preprocess", "Train"]
    assert result.model_package_arn is None
    # The failed run has its record too: its steps up to the failure, the validation that stopped it.
    assert record.status == "Failed" and record.failure_reason == result.failure_reason
    assert [s.status for s in record.steps] == ["Succeeded", "Failed"]
    assert record.model_package_arn is None and record.metrics is None
    assert record.inputs and record.inputs[0].uri.endswith("corrupted.csv")
    assert record.validation and record.validation["success"] is False
    assert record.validation["quarantined_rows"] == 2
    quarantine = record.reports["ValidateData.quarantine"]
    bucket, prefix = quarantine[5:].split("/", 1)
    keys = [o["Key"] for o in account["s3"].list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert any(k.endswith("quarantine.csv") for k in keys)
    assert data.read_bytes() == before  # the input is left untouched
