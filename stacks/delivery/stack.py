"""KeelDelivery: the CDK Pipelines promotion pipeline, deployed once in the tooling account.

Source → Synth (make test, synth every environment and the pipeline) → UpdatePipeline (self-mutation) →
Assets → one stage per environment in `keel:delivery.stages`, each optionally behind a manual approval and
followed by a smoke check that stops promotion when the environment is unhealthy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_logs as logs
from constructs import Construct

from keel.config import PROJECT_ROOT, Delivery, EnvironmentConfig
from keel.delivery.naming import PIPELINE_NAME
from stacks.app import build_environment
from stacks.delivery.artifacts import ArtifactStore
from stacks.delivery.findings import acknowledge_generated_findings
from stacks.delivery.keys import DeliveryLogsKey
from stacks.delivery.notifications import PipelineNotifications
from stacks.delivery.role_arns import render_role_arns_as_sub
from stacks.delivery.smoke_access import SmokeCheckCallerRole
from stacks.delivery.source import pipeline_source
from stacks.delivery.stage import KeelStage, StacksBuilder
from stacks.delivery.steps import smoke_check_step, synth_step

BUILD_LOG_DAYS = logs.RetentionDays.ONE_YEAR


def pinned_cdk_cli_version() -> str:
    """The CDK CLI version package.json pins: self-mutation uses the same CLI as `npx cdk`."""
    package = json.loads((PROJECT_ROOT / "package.json").read_text(encoding="utf-8"))
    version: str = package["devDependencies"]["aws-cdk"]
    return version


class DeliveryStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        delivery: Delivery,
        environments: Sequence[EnvironmentConfig],
        build_stacks: StacksBuilder = build_environment,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.artifacts = ArtifactStore(self, "Artifacts", delivery=delivery)
        self.logs_key = DeliveryLogsKey(self, "LogsKey").key
        self.build_logs = logs.LogGroup(
            self,
            "BuildLogs",
            log_group_name="/keel/delivery/codebuild",
            encryption_key=self.logs_key,
            retention=BUILD_LOG_DAYS,
            removal_policy=RemovalPolicy.RETAIN,
        )
        source = pipeline_source(self, delivery.source)
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=PIPELINE_NAME,
            synth=synth_step(source),
            # Stages deploy through each account's CDK bootstrap roles, which must read the artifacts.
            cross_account_keys=True,
            enable_key_rotation=True,
            artifact_bucket=self.artifacts.bucket,
            cli_version=pinned_cdk_cli_version(),
            publish_assets_in_parallel=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.SMALL,
                ),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.build_logs)
                ),
            ),
        )
        self.stages: list[KeelStage] = []
        smoke_roles = []
        for config in environments:
            stage = KeelStage(self, config.name, config=config, delivery=delivery, build_stacks=build_stacks)
            caller = SmokeCheckCallerRole(self, f"SmokeCheck-{config.name}", config=config)
            approval = (
                [
                    pipelines.ManualApprovalStep(
                        f"PromoteTo{config.name.capitalize()}",
                        comment=f"Promote to {config.name} ({config.account}/{config.region})? The previous "
                        "stages deployed this revision and passed their smoke checks.",
                    )
                ]
                if config.name in delivery.manual_approval_before
                else []
            )
            smoke = smoke_check_step(
                source, config=config, role=caller.role, target_role_arn=caller.target_role_arn
            )
            self.pipeline.add_stage(stage, pre=approval, post=[smoke])
            self.stages.append(stage)
            smoke_roles.append(caller.role)
        self.pipeline.build_pipeline()
        render_role_arns_as_sub(self.pipeline.pipeline)
        acknowledge_generated_findings(
            self.pipeline, artifact_bucket=self.artifacts.bucket, step_roles=smoke_roles
        )
        self.notifications = PipelineNotifications(
            self, "Notifications", pipeline=self.pipeline.pipeline, key=self.logs_key
        )
