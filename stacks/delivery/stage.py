"""One environment as a CDK Pipelines stage: every Keel stack with that environment's config, deployed
into its own account/region, plus the smoke check's read-only role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Environment, Stage
from aws_cdk import aws_iam as iam
from constructs import Construct

from keel.config import Delivery, EnvironmentConfig
from keel.delivery.naming import smoke_check_stack_name
from stacks.app import build_environment
from stacks.delivery.smoke_access import SmokeCheckAccessStack

# Builds an environment's stacks in a scope: `stacks.app.build_environment` (tests may pass a lighter one).
StacksBuilder = Callable[[Construct, EnvironmentConfig], Any]


class KeelStage(Stage):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        delivery: Delivery,
        build_stacks: StacksBuilder = build_environment,
    ) -> None:
        env = Environment(account=config.account, region=config.region)
        super().__init__(scope, construct_id, env=env)
        self.config = config
        self.stacks = build_stacks(self, config)
        self.smoke_check_access = SmokeCheckAccessStack(
            self,
            smoke_check_stack_name(config),
            stack_name=smoke_check_stack_name(config),
            env=env,
            description=f"Keel {config.name}: smoke-check access for the delivery pipeline",
            config=config,
            delivery=delivery,
        )
        if config.security.permissions_boundary_arn:
            boundary = iam.ManagedPolicy.from_managed_policy_arn(
                self.smoke_check_access, "PermissionsBoundary", config.security.permissions_boundary_arn
            )
            iam.PermissionsBoundary.of(self.smoke_check_access).apply(boundary)
