"""A moto world for the monitoring and serving tests: buckets, a registered model version with its training
baseline (white wine), helpers to write captured traffic and to create Keel's alarms from their specs."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pandas as pd

from keel.config import EnvironmentConfig, load_environment
from keel.contract import DatasetContract, load_contract
from keel.drift.baseline import build_baseline, save_baseline
from keel.monitoring.alarms import alarm_set
from keel.monitoring.settings import monitoring_settings
from keel.naming import BucketPurpose, bucket_name, model_package_group_name, pipeline_name
from keel.scenario.serving import write_capture
from keel.serving.model_package import baseline_uri

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "wine-quality"
REGION = "us-east-1"


@cache
def wine(colour: str) -> pd.DataFrame:
    """The real data set with canonical column names."""
    frame = pd.read_csv(DATA_DIR / f"winequality-{colour}.csv")
    return frame.rename(columns=load_contract().header_renames)


def features(contract: DatasetContract) -> list[str]:
    return [c.name for c in contract.feature_columns]


@dataclass
class World:
    config: EnvironmentConfig
    contract: DatasetContract
    s3: Any
    cloudwatch: Any
    sagemaker: Any
    autoscaling: Any

    @property
    def reports(self) -> str:
        return bucket_name(self.config, BucketPurpose.REPORTS)

    @property
    def artifacts(self) -> str:
        return bucket_name(self.config, BucketPurpose.ARTIFACTS)

    def upload_baseline(self, execution_id: str, frame: pd.DataFrame) -> str:
        """The training baseline preprocess would write for `frame` (its train split, here all of it)."""
        uri = baseline_uri(self.config, execution_id)
        prefix = uri.removeprefix(f"s3://{self.artifacts}/")
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            save_baseline(build_baseline(frame, self.contract), folder)
            (folder / "preprocess.json").write_text(json.dumps({"features": features(self.contract)}))
            for path in folder.iterdir():
                self.s3.put_object(Bucket=self.artifacts, Key=f"{prefix}/{path.name}", Body=path.read_bytes())
        return uri

    def register_version(self, execution_id: str, *, approve: bool = True) -> str:
        """A model version as the pipeline registers it; returns its ARN."""
        group = model_package_group_name(self.config)
        response = self.sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=f"trained by {execution_id}",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/keel-steps:local",
                        "ModelDataUrl": f"s3://{self.artifacts}/pipeline/{pipeline_name(self.config)}/models/"
                        f"{execution_id}/output/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelApprovalStatus="Approved" if approve else "PendingManualApproval",
            CustomerMetadataProperties={"keel:execution_id": execution_id, "keel:contract": "wine_quality"},
        )
        return str(response["ModelPackageArn"])

    def write_capture(
        self, rows: Iterable[Sequence[float]], *, name: str = "capture", extra: Sequence[str] = ()
    ) -> str:
        """Captured requests (one CSV row each), as SageMaker writes them under the capture prefix."""
        return write_capture(self.s3, self.config, rows, name=name, extra_lines=extra)

    def create_alarms(self) -> list[str]:
        """Keel's static-threshold alarms, exactly as specified (moto skips them in CloudFormation)."""
        names = []
        for spec in alarm_set(self.config, monitoring_settings(self.config)).metric:
            self.cloudwatch.put_metric_alarm(**spec.put_metric_alarm_request(actions=[]))
            names.append(spec.name)
        return names

    def alarm_state(self, name: str) -> str:
        return str(self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def make_world(env_name: str = "local") -> World:
    config = load_environment(env_name)
    session = boto3.session.Session(region_name=REGION)
    world = World(
        config=config,
        contract=load_contract(config.contract),
        s3=session.client("s3"),
        cloudwatch=session.client("cloudwatch"),
        sagemaker=session.client("sagemaker"),
        autoscaling=session.client("application-autoscaling"),
    )
    for purpose in (BucketPurpose.REPORTS, BucketPurpose.ARTIFACTS):
        world.s3.create_bucket(Bucket=bucket_name(config, purpose))
    world.sagemaker.create_model_package_group(ModelPackageGroupName=model_package_group_name(config))
    return world


def serve(world: World, package_arn: str, *, name: str = "keel-local-v1-20260101000000") -> None:
    """An endpoint serving `package_arn`, created directly (the deployer's own tests cover how)."""
    from keel.naming import endpoint_name

    world.sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/keel-local-endpoint",
        PrimaryContainer={"ModelPackageName": package_arn},
    )
    world.sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "live",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    world.sagemaker.create_endpoint(EndpointName=endpoint_name(world.config), EndpointConfigName=name)
