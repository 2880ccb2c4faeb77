"""The scheduled production drift check: the drift publisher Lambda, its schedule and event rules, and its
permissions (start Keel-compliant drift jobs, read captures and reports, put Keel's metrics)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.monitoring.drift_jobs import PROCESSING_JOB_DETAIL_TYPE
from keel.monitoring.pipeline_events import PIPELINE_STATUS_DETAIL_TYPE
from keel.monitoring.runtime_settings import KMS_KEY_VARIABLE, PublisherSettings
from keel.monitoring.settings import MonitoringSettings
from keel.naming import METRICS_NAMESPACE, model_package_group_name, partition
from keel.serving.names import CAPTURE_PREFIX, DRIFT_JOB_PREFIX, DRIFT_REPORTS_PREFIX, resource_prefix
from stacks.compliance import acknowledge
from stacks.constructs.python_function import PythonFunction
from stacks.ml.roles import compliant_job_denies

HANDLER = "drift_publisher"
# Third-party packages the handler imports (the Lambda runtime provides boto3); no numpy/pandas: the drift
# statistics run in the processing job.
DISTRIBUTIONS = (
    "aws-lambda-powertools",
    "pydantic",
    "pydantic-core",
    "typing-extensions",
    "annotated-types",
    "typing-inspection",
    "aws-xray-sdk",
    "wrapt",
    "jmespath",
)


class DriftCheck(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        settings: MonitoringSettings,
        publisher: PublisherSettings,
        artifacts_key: kms.IKey,
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.lambda_ = PythonFunction(
            self,
            "Publisher",
            config=config,
            handler_name=HANDLER,
            description="Keel drift publisher: starts the production drift check; drift and pipeline metrics",
            logs_key=logs_key,
            removal_policy=removal_policy,
            reserved_concurrency=2,
            timeout_seconds=300,
            environment={**publisher.to_environ(), KMS_KEY_VARIABLE: artifacts_key.key_arn},
            distributions=DISTRIBUTIONS,
        )
        function, role = self.lambda_.function, self.lambda_.role
        self._grant(config, publisher, artifacts_key)

        def target() -> targets.LambdaFunction:
            return targets.LambdaFunction(
                function,
                dead_letter_queue=self.lambda_.dead_letter_queue,
                retry_attempts=4,
                max_event_age=Duration.hours(6),
            )

        self.schedule = events.Rule(
            self,
            "Schedule",
            description="Production drift check: captured inputs vs the deployed model's training baseline",
            schedule=events.Schedule.expression(settings.drift_check_schedule),
            targets=[target()],
        )
        self.job_finished = events.Rule(
            self,
            "DriftJobFinished",
            description="A drift job finished: put its drift metrics",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[PROCESSING_JOB_DETAIL_TYPE],
                detail={
                    "ProcessingJobName": [{"prefix": publisher.job_prefix}],
                    "ProcessingJobStatus": ["Completed", "Failed", "Stopped"],
                },
            ),
            targets=[target()],
        )
        sagemaker_arn = f"arn:{partition(config)}:sagemaker:{config.region}:{config.account}"
        pipeline_arn = f"{sagemaker_arn}:pipeline/{publisher.pipeline_name}"
        self.pipeline_status = events.Rule(
            self,
            "PipelineStatus",
            description="Training pipeline started or ended: executions, retrains by reason, validation",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[PIPELINE_STATUS_DETAIL_TYPE],
                detail={"pipelineArn": [pipeline_arn]},
            ),
            targets=[target()],
        )
        acknowledge(
            role,
            "PutMetricData has no resource-level permissions (limited to the Keel namespace by condition); "
            "drift jobs, endpoint configs and models are named per run under Keel's prefix; objects are "
            "Keel's capture, report and job prefixes of the reports bucket.",
            *self._wildcard_findings(config, publisher),
        )

    def _grant(
        self, config: EnvironmentConfig, publisher: PublisherSettings, artifacts_key: kms.IKey
    ) -> None:
        role = self.lambda_.role
        arn = f"arn:{partition(config)}:sagemaker:{config.region}:{config.account}"
        reports = f"arn:{partition(config)}:s3:::{publisher.reports_bucket}"
        statements = [
            iam.PolicyStatement(
                sid="StartDriftJobs",
                actions=[
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:AddTags",
                ],
                resources=[f"{arn}:processing-job/{publisher.job_prefix}*"],
            ),
            iam.PolicyStatement(
                sid="ReadServedModel",
                actions=[
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DescribeModel",
                    "sagemaker:DescribeModelPackage",
                ],
                resources=[
                    f"{arn}:endpoint/{publisher.endpoint_name}",
                    f"{arn}:endpoint-config/{resource_prefix(config)}*",
                    f"{arn}:model/{resource_prefix(config)}*",
                    f"{arn}:model-package/{model_package_group_name(config)}/*",
                ],
            ),
            iam.PolicyStatement(
                sid="ReadPipelineParameters",
                actions=["sagemaker:ListPipelineParametersForExecution"],
                resources=[f"{arn}:pipeline/{publisher.pipeline_name}/execution/*"],
            ),
            iam.PolicyStatement(
                sid="PassJobRole",
                actions=["iam:PassRole"],
                resources=[publisher.job_role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ListCaptures",
                actions=["s3:ListBucket"],
                resources=[reports],
                conditions={
                    "StringLike": {
                        "s3:prefix": [f"{CAPTURE_PREFIX}*", f"pipeline/{publisher.pipeline_name}/*"]
                    }
                },
            ),
            iam.PolicyStatement(
                sid="ReadCapturesAndReports",
                actions=["s3:GetObject"],
                resources=[
                    f"{reports}/{CAPTURE_PREFIX}*",
                    f"{reports}/{DRIFT_REPORTS_PREFIX}*",
                    f"{reports}/pipeline/{publisher.pipeline_name}/*",
                ],
            ),
            iam.PolicyStatement(
                sid="WriteJobManifests",
                actions=["s3:PutObject"],
                resources=[f"{reports}/{DRIFT_JOB_PREFIX}*"],
            ),
            iam.PolicyStatement(
                sid="PutKeelMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            ),
            *compliant_job_denies(require_vpc=config.security.vpc is not None),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        artifacts_key.grant_encrypt_decrypt(role)
        artifacts_key.grant(role, "kms:CreateGrant", "kms:DescribeKey")

    @staticmethod
    def _wildcard_findings(config: EnvironmentConfig, publisher: PublisherSettings) -> list[str]:
        arn = f"arn:{partition(config)}:sagemaker:{config.region}:{config.account}"
        reports = f"arn:{partition(config)}:s3:::{publisher.reports_bucket}"
        resources = [
            f"{arn}:processing-job/{publisher.job_prefix}*",
            f"{arn}:endpoint-config/{resource_prefix(config)}*",
            f"{arn}:model/{resource_prefix(config)}*",
            f"{arn}:model-package/{model_package_group_name(config)}/*",
            f"{arn}:pipeline/{publisher.pipeline_name}/execution/*",
            f"{reports}/{CAPTURE_PREFIX}*",
            f"{reports}/{DRIFT_REPORTS_PREFIX}*",
            f"{reports}/pipeline/{publisher.pipeline_name}/*",
            f"{reports}/{DRIFT_JOB_PREFIX}*",
        ]
        return [f"AwsSolutions-IAM5[Resource::{r}]" for r in resources] + [
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        ]
