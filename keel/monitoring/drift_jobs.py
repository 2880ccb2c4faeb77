"""Start the scheduled production drift check as a SageMaker processing job, and put its metrics when it
completes (the job is network-isolated: it cannot call CloudWatch itself).

Start: find the model version the endpoint serves, its training baseline and its image (the image that
trained it, so the check runs the code that wrote the baseline), list the capture files of the window into a
manifest, and create the job — encrypted, isolated, with inter-container traffic encryption, like every
Keel job. No endpoint, no Keel model on it, or no traffic in the window is still a check: DriftChecks is put
(with zero rows), so the staleness alarm means "the check stopped running", not "no traffic".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from keel.monitoring import s3 as s3io
from keel.monitoring.metrics import drift_data, put_metric_data
from keel.monitoring.outputs import metrics_from_outputs, run_id
from keel.monitoring.runtime_settings import PublisherSettings
from keel.monitoring.summary import CaptureSummary
from keel.naming import QUARANTINE_PREFIX
from keel.serving.endpoint_service import EndpointService
from keel.serving.model_package import ModelRegistry
from keel.serving.names import CAPTURE_QUARANTINE_SOURCE, DRIFT_JOB_PREFIX, DRIFT_REPORTS_PREFIX

PROCESSING_JOB_DETAIL_TYPE = "SageMaker Processing Job State Change"
ENTRYPOINT = ["python3", "-m", "keel.monitoring.drift_job"]
LOCAL = "/opt/ml/processing"


def manifest_document(bucket: str, prefix: str, keys: Sequence[str]) -> str:
    """A SageMaker S3 manifest: the common prefix, then each key relative to it."""
    return json.dumps([{"prefix": f"s3://{bucket}/{prefix}"}, *[key[len(prefix) :] for key in keys]])


def drift_job_request(
    settings: PublisherSettings,
    *,
    job_name: str,
    image_uri: str,
    manifest_uri: str,
    baseline_uri: str,
    output_uri: str,
    quarantine_uri: str,
) -> dict[str, Any]:
    t = settings.thresholds
    arguments = [
        "--contract",
        settings.contract,
        "--max-feature-psi",
        str(t.max_feature_psi),
        "--ks-p-value",
        str(t.ks_p_value),
        "--max-drifted-feature-share",
        str(t.max_drifted_feature_share),
        "--min-rows",
        str(settings.min_rows),
        "--capture-label",
        settings.capture_uri,
        "--baseline-label",
        baseline_uri,
    ]

    def s3_input(name: str, uri: str, data_type: str) -> dict[str, Any]:
        return {
            "InputName": name,
            "S3Input": {
                "S3Uri": uri,
                "LocalPath": f"{LOCAL}/input/{name}",
                "S3DataType": data_type,
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }

    def s3_output(name: str, uri: str) -> dict[str, Any]:
        return {
            "OutputName": name,
            "S3Output": {"S3Uri": uri, "LocalPath": f"{LOCAL}/output/{name}", "S3UploadMode": "EndOfJob"},
        }

    network: dict[str, Any] = {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True}
    if settings.subnet_ids:
        network["VpcConfig"] = {
            "Subnets": list(settings.subnet_ids),
            "SecurityGroupIds": list(settings.security_group_ids),
        }
    return {
        "ProcessingJobName": job_name,
        "RoleArn": settings.job_role_arn,
        "AppSpecification": {
            "ImageUri": image_uri,
            "ContainerEntrypoint": ENTRYPOINT,
            "ContainerArguments": arguments,
        },
        "ProcessingInputs": [
            s3_input("baseline", baseline_uri, "S3Prefix"),
            s3_input("capture", manifest_uri, "ManifestFile"),
        ],
        "ProcessingOutputConfig": {
            "Outputs": [s3_output("drift", output_uri), s3_output("quarantine", quarantine_uri)],
            "KmsKeyId": settings.kms_key_arn,
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": settings.instance_type,
                "VolumeSizeInGB": settings.volume_gb,
                "VolumeKmsKeyId": settings.kms_key_arn,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.max_runtime_seconds},
        "NetworkConfig": network,
        "Environment": {"KEEL_ENV": settings.environment},
        "Tags": [{"Key": k, "Value": v} for k, v in settings.tags.items()],
    }


class DriftJobs:
    def __init__(
        self,
        settings: PublisherSettings,
        *,
        sagemaker: Any,
        s3: Any,
        cloudwatch: Any,
        endpoints: EndpointService,
        registry: ModelRegistry,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings, self.sagemaker, self.s3, self.cloudwatch = settings, sagemaker, s3, cloudwatch
        self.endpoints, self.registry, self.clock = endpoints, registry, clock

    def start(self) -> dict[str, Any]:
        s, now = self.settings, self.clock()
        state = self.endpoints.describe_endpoint(s.endpoint_name)
        package = self.endpoints.serving_package(state.config_name) if state else None
        if package is None:
            return self._nothing_to_check(now, f"endpoint {s.endpoint_name} serves no Keel model")
        version = self.registry.describe(package)
        if not version.execution_id:
            raise ValueError(f"{package} has no keel:execution_id: its training baseline is unknown")
        baseline = f"{s.baseline_prefix}{version.execution_id}/baseline"
        bucket, prefix = s3io.split_uri(s.capture_uri)
        keys = list(s3io.list_keys(self.s3, s.capture_uri, since=now - timedelta(hours=s.window_hours)))
        if not keys:
            return self._nothing_to_check(now, f"no captured traffic in the last {s.window_hours} h")
        job_name = f"{s.job_prefix}{now:%Y%m%d%H%M%S}"
        manifest_key = f"{DRIFT_JOB_PREFIX}{job_name}/manifest.json"
        self.s3.put_object(
            Bucket=s.reports_bucket,
            Key=manifest_key,
            Body=manifest_document(bucket, prefix, keys).encode(),
            ContentType="application/json",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=s.kms_key_arn,
        )
        request = drift_job_request(
            s,
            job_name=job_name,
            image_uri=version.image_uri,
            manifest_uri=f"s3://{s.reports_bucket}/{manifest_key}",
            baseline_uri=baseline,
            output_uri=f"s3://{s.reports_bucket}/{DRIFT_REPORTS_PREFIX}{s.endpoint_name}/{run_id(now)}/",
            quarantine_uri=(
                f"s3://{s.reports_bucket}/{QUARANTINE_PREFIX}{CAPTURE_QUARANTINE_SOURCE}/{now:%Y-%m-%d}/"
                f"{run_id(now)}/"
            ),
        )
        self.sagemaker.create_processing_job(**request)
        return {"status": "started", "job": job_name, "files": len(keys), "model_version": version.version}

    def completed(self, event: dict[str, Any]) -> dict[str, Any]:
        detail = event.get("detail") or {}
        name = str(detail.get("ProcessingJobName", ""))
        if not name.startswith(self.settings.job_prefix):
            return {"status": "ignored", "reason": f"not a Keel drift job: {name!r}"}
        job = self.sagemaker.describe_processing_job(ProcessingJobName=name)
        status = job.get("ProcessingJobStatus")
        if status != "Completed":
            # No metrics: the staleness alarm fires if checks keep failing; the job's log says why.
            return {"status": f"job-{str(status).lower()}", "job": name, "reason": job.get("FailureReason")}
        outputs = {o["OutputName"]: o["S3Output"]["S3Uri"] for o in job["ProcessingOutputConfig"]["Outputs"]}
        summary, _report, data = metrics_from_outputs(
            self.s3, outputs["drift"], environment=self.settings.environment, timestamp=self.clock()
        )
        put_metric_data(self.cloudwatch, data)
        return {
            "status": "published",
            "job": name,
            "rows": summary.rows,
            "unparseable": summary.unparseable_records,
            "dataset_drift": summary.dataset_drift,
            "metrics": len(data),
        }

    def _nothing_to_check(self, now: datetime, why: str) -> dict[str, Any]:
        summary = CaptureSummary(
            capture=self.settings.capture_uri,
            baseline="",
            files=0,
            records=0,
            rows=0,
            unparseable_records=0,
            rejection_reasons={},
            min_rows=self.settings.min_rows,
            sufficient=False,
            dataset_drift=None,
        )
        data = drift_data(None, summary, environment=self.settings.environment, timestamp=now)
        put_metric_data(self.cloudwatch, data)
        return {"status": "nothing-to-check", "reason": why, "metrics": len(data)}
