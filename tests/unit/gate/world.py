"""A Keel account in moto for the gate, quarantine and lineage tests (and the lineage benchmark).

Builds what a training run leaves behind, the way the local runner writes it: buckets (evidence with Object
Lock), KMS keys and aliases, the model package group, the pipeline deployed with the real definition, and
per run an execution, the input object, the reports (SSE-KMS with the artifacts key), the lineage record and
the registered model package with Keel's customer metadata.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import boto3

from keel.config import EnvironmentConfig, load_environment
from keel.contract import load_contract
from keel.gate.decide import GateDeps
from keel.gate.events import model_package_state_change
from keel.gate.findings import FindingsSource, StaticFindingsSource
from keel.gate.model import Actor
from keel.gate.notify import RecordingNotifier
from keel.gate.settings import GovernanceSettings
from keel.lineage.record import (
    CodeVersion,
    ContractRef,
    InputObject,
    LineageRecord,
    StepRecord,
    Trigger,
    contract_sha256,
    record_key,
    to_json,
)
from keel.naming import BucketPurpose, KeyPurpose, bucket_name, key_alias

MOTO_ACCOUNT = "123456789012"
REGION = "us-east-1"
IMAGE_URI = f"{MOTO_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/keel-steps@sha256:" + "ab" * 32
KEY_PLACEHOLDER = "arn:aws:kms:us-east-1:123456789012:key/keel-test-placeholder"
CSV = b"fixed_acidity,quality\n7.4,5\n7.8,5\n11.2,6\n"


@lru_cache(maxsize=1)
def _session() -> boto3.session.Session:
    """One session for every World: its loader caches the service models (client creation is ~0.2 s
    without the cache). moto intercepts the clients' requests whichever session made them."""
    return boto3.session.Session(region_name=REGION)


def client(service: str) -> Any:
    return _session().client(service, region_name=REGION)  # type: ignore[call-overload]


def keel_config(name: str = "local") -> EnvironmentConfig:
    """An environment of cdk.json, moved into moto's account and region."""
    return load_environment(name).model_copy(update={"account": MOTO_ACCOUNT, "region": REGION})


@lru_cache(maxsize=4)
def definition_template(env_name: str) -> str:
    """The real pipeline definition of an environment (built once; ~3 s for the SDK import)."""
    from pipeline_steps.definition import pipeline_definition, targets_for

    config = keel_config(env_name)
    targets = targets_for(config, kms_key_arn=KEY_PLACEHOLDER, image_uri=IMAGE_URI)
    return json.dumps(pipeline_definition(config, load_contract(config.contract), targets), sort_keys=True)


def evaluation(accuracy: float) -> dict[str, Any]:
    return {
        "multiclass_classification_metrics": {
            "accuracy": {"value": accuracy, "standard_deviation": "NaN"},
            "weighted_f1": {"value": accuracy - 0.02, "standard_deviation": "NaN"},
            "confusion_matrix": {"5": {"5": 2, "6": 0}, "6": {"5": 0, "6": 1}},
        }
    }


def validation_summary(success: bool = True) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "contract": "wine_quality",
        "contract_version": "1.0.0",
        "success": success,
        "shard": None,
        "shards": [],
        "rows": 3,
        "quarantined_rows": 0 if success else 1,
        "evaluated_expectations": 42,
        "successful_expectations": 42 if success else 41,
        "files": [],
        "errors": [],
        "failures": []
        if success
        else [
            {
                "expectation": "expect_column_values_to_be_between",
                "column": "ph",
                "expected": "between 2 and 5",
                "message": "1 row out of range",
            }
        ],
    }


def drift_report(drifted: tuple[str, ...] = ()) -> dict[str, Any]:
    names = ("fixed_acidity", "volatile_acidity", "citric_acid", "residual_sugar")
    features = [
        {
            "name": name,
            "drifted": name in drifted,
            "reasons": ["psi 0.41 > 0.2"] if name in drifted else [],
            "psi": 0.41 if name in drifted else 0.01,
            "ks_statistic": 0.1,
            "ks_p_value": 0.5,
            "ks_method": "exact",
            "reference_count": 3,
            "current_count": 3,
            "current_missing": 0,
            "bin_edges": [0.0, 1.0],
            "reference_proportions": [1.0],
            "current_proportions": [1.0],
        }
        for name in names
    ]
    share = len(drifted) / len(names)
    return {
        "schema_version": 1,
        "contract": "wine_quality",
        "contract_version": "1.0.0",
        "reference": "baseline",
        "current": "test",
        "reference_rows": 3,
        "current_rows": 3,
        "thresholds": {"max_feature_psi": 0.2, "ks_p_value": 0.01, "max_drifted_feature_share": 0.25},
        "features": features,
        "drifted_features": list(drifted),
        "drifted_share": share,
        "dataset_drift": share > 0.25,
    }


@dataclass
class Run:
    execution_id: str
    execution_arn: str
    input_uri: str
    input_version: str
    record: LineageRecord
    record_uri: str
    model_package_arn: str | None
    reports: dict[str, str] = field(default_factory=dict)


class World:
    """Keel's resources for one environment inside an active `mock_aws()`."""

    def __init__(self, config: EnvironmentConfig) -> None:
        self.config = config
        self.settings = GovernanceSettings.from_config(config)
        self.s3 = client("s3")
        self.kms = client("kms")
        self.sagemaker = client("sagemaker")
        self.sns = client("sns")
        self.sqs = client("sqs")
        self.keys: dict[KeyPurpose, str] = {}
        for purpose in KeyPurpose:
            arn = self.kms.create_key(Description=f"keel {purpose.value}")["KeyMetadata"]["Arn"]
            self.kms.create_alias(AliasName=key_alias(config, purpose), TargetKeyId=arn)
            self.keys[purpose] = arn
        for purpose in BucketPurpose:
            name = bucket_name(config, purpose)
            lock = purpose is BucketPurpose.EVIDENCE
            self.s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
            self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
            key = self.keys[KeyPurpose.LOGS if lock else KeyPurpose.DATA]
            self.s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": key,
                            }
                        }
                    ]
                },
            )
            if lock:
                self.s3.put_object_lock_configuration(
                    Bucket=name,
                    ObjectLockConfiguration={
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
                    },
                )
        self.topic_arn = self.sns.create_topic(Name=self.settings.alert_topic_arn.rsplit(":", 1)[-1])[
            "TopicArn"
        ]
        self.alerts_queue = self.sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.alerts_queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.sagemaker.create_model_package_group(ModelPackageGroupName=self.settings.model_package_group)
        self.definition_text = definition_template(config.name).replace(KEY_PLACEHOLDER, self.artifacts_key)
        self.pipeline_arn = self.sagemaker.create_pipeline(
            PipelineName=self.settings.pipeline_name,
            PipelineDefinition=self.definition_text,
            RoleArn=f"arn:aws:iam::{config.account}:role/{config.prefix}-pipeline",
        )["PipelineArn"]

    @property
    def artifacts_key(self) -> str:
        return self.keys[KeyPurpose.ARTIFACTS]

    @property
    def definition_sha256(self) -> str:
        return hashlib.sha256(self.definition_text.encode()).hexdigest()

    def deps(self, *, findings: FindingsSource | None = None, **overrides: Any) -> GateDeps:
        values: dict[str, Any] = {
            "settings": self.settings,
            "sagemaker": self.sagemaker,
            "s3": self.s3,
            "kms": self.kms,
            "findings": findings or StaticFindingsSource(),
            "notifier": RecordingNotifier(),
            "actor": Actor(kind="policy-gate", identity="arn:aws:lambda:test:policy-gate", source="test"),
        }
        return GateDeps(**(values | overrides))

    def put_report(self, uri: str, document: Any, *, key_id: str | None = None) -> None:
        bucket, _, key = uri[5:].partition("/")
        body = document if isinstance(document, bytes) else json.dumps(document, indent=2).encode()
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_id or self.artifacts_key,
        )

    def train(
        self,
        *,
        accuracy: float = 0.62,
        validation_ok: bool = True,
        drifted: tuple[str, ...] = (),
        register: bool = True,
        data: bytes = CSV,
        input_key: str = "landing/wine_quality/ingest_date=2026-11-01/wine.csv",
        git_dirty: bool = False,
    ) -> Run:
        """One training run's traces, as the local runner leaves them."""
        settings = self.settings
        raw = bucket_name(self.config, BucketPurpose.RAW)
        put = self.s3.put_object(Bucket=raw, Key=input_key, Body=data)
        version, etag = put["VersionId"], put["ETag"].strip('"')
        started = self.sagemaker.start_pipeline_execution(PipelineName=settings.pipeline_name)
        execution_arn = started["PipelineExecutionArn"]
        execution_id = execution_arn.rsplit("/", 1)[-1]
        base = f"pipeline/{settings.pipeline_name}/{execution_id}"
        reports_root = f"s3://{settings.reports_bucket}/{base}"
        job = f"pipelines-{execution_id[:12]}-Train"
        reports = {
            "ValidateData.validation": f"{reports_root}/validation",
            "CombineValidation.validation": f"{reports_root}/combined-validation",
            "Train.model": f"s3://{settings.artifacts_bucket}/pipeline/{settings.pipeline_name}/models/{job}/output/model.tar.gz",
            "Evaluate.evaluation": f"{reports_root}/evaluation",
            "MeasureDrift.drift": f"{reports_root}/drift",
        }
        metrics, summary, drift = (
            evaluation(accuracy),
            validation_summary(validation_ok),
            drift_report(drifted),
        )
        self.put_report(
            f"{reports['ValidateData.validation']}/validation_result.json", {"success": validation_ok}
        )
        self.put_report(f"{reports['CombineValidation.validation']}/summary.json", summary)
        self.put_report(reports["Train.model"], b"model-bytes")
        self.put_report(f"{reports['Evaluate.evaluation']}/evaluation.json", metrics)
        self.put_report(f"{reports['MeasureDrift.drift']}/drift_report.json", drift)
        input_uri = f"s3://{raw}/{input_key}"
        parameters: dict[str, Any] = {
            "InputDataUri": input_uri,
            "InputObjectVersion": version,
            "TriggerReason": "test run",
            "MinAccuracy": self.config.thresholds.min_accuracy,
            "MaxFeaturePsi": self.config.thresholds.max_feature_psi,
            "KsPValue": self.config.thresholds.ks_p_value,
            "MaxDriftedFeatureShare": self.config.thresholds.max_drifted_feature_share,
            "ModelApprovalStatus": "PendingManualApproval",
        }
        arn = None
        if register:
            arn = self.sagemaker.create_model_package(
                ModelPackageGroupName=settings.model_package_group,
                ModelPackageDescription="Keel test",
                ModelApprovalStatus="PendingManualApproval",
                InferenceSpecification={
                    "Containers": [{"Image": IMAGE_URI, "ModelDataUrl": reports["Train.model"]}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
                ModelMetrics={
                    "ModelQuality": {
                        "Statistics": {
                            "ContentType": "application/json",
                            "S3Uri": f"{reports['Evaluate.evaluation']}/evaluation.json",
                        }
                    }
                },
                CustomerMetadataProperties={
                    "keel:contract": "wine_quality",
                    "keel:contract_version": "1.0.0",
                    "keel:input_data_uri": input_uri,
                    "keel:input_object_version": version,
                    "keel:trigger": "test run",
                    "keel:execution_id": execution_id,
                },
            )["ModelPackageArn"]
        contract = load_contract(self.config.contract)
        record = LineageRecord(
            environment=self.config.name,
            pipeline_name=settings.pipeline_name,
            pipeline_arn=self.pipeline_arn,
            definition_sha256=self.definition_sha256,
            execution_arn=execution_arn,
            execution_id=execution_id,
            status="Succeeded",
            failure_reason=None,
            started="2026-11-01T10:00:00+00:00",
            ended="2026-11-01T10:05:00+00:00",
            trigger=Trigger(reason="test run", source="cli"),
            parameters=parameters,
            contract=ContractRef(
                name=contract.name, version=contract.version, sha256=contract_sha256(contract.name)
            ),
            code=CodeVersion(
                git_commit="0123456789abcdef0123",
                git_dirty=git_dirty,
                source_sha256="c" * 64,
                image_uri=IMAGE_URI,
            ),
            inputs=[
                InputObject(
                    uri=input_uri,
                    version_id=version,
                    etag=etag,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
            ],
            steps=[
                StepRecord(
                    name=name,
                    type="Processing",
                    status="Succeeded",
                    started="2026-11-01T10:00:00+00:00",
                    ended="2026-11-01T10:01:00+00:00",
                )
                for name in (
                    "ValidateData",
                    "CombineValidation",
                    "Preprocess",
                    "Train",
                    "Evaluate",
                    "MeasureDrift",
                )
            ],
            validation=summary,
            metrics=metrics,
            drift=drift,
            reports=reports,
            model_package_arn=arn,
        )
        key = record_key(execution_id)
        self.s3.put_object(
            Bucket=settings.reports_bucket,
            Key=key,
            Body=to_json(record).encode(),
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_alias(self.config, KeyPurpose.ARTIFACTS),
        )
        return Run(
            execution_id,
            execution_arn,
            input_uri,
            version,
            record,
            f"s3://{settings.reports_bucket}/{key}",
            arn,
            reports,
        )

    def set_status_in_console(self, arn: str, status: str) -> None:
        """A human's change in Studio: SageMaker keeps the metadata (moto needs it passed again)."""
        metadata = self.sagemaker.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
        self.sagemaker.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus=status, CustomerMetadataProperties=metadata
        )

    def status(self, arn: str) -> str:
        return str(self.sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"])

    def evidence_keys(self) -> list[str]:
        response = self.s3.list_objects_v2(Bucket=self.settings.evidence_bucket)
        return sorted(item["Key"] for item in response.get("Contents", []))

    def alerts(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.alerts_queue, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in messages]


def state_change_event(
    arn: str, status: str, *, event_id: str = "evt-1", last_modified_by: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An EventBridge "SageMaker Model Package State Change" event, shaped like the service's."""
    return model_package_state_change(arn, status, event_id=event_id, last_modified_by=last_modified_by)
