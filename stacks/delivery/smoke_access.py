"""The cross-account trust of the smoke check: a read-only role in each environment's account, generated
from the smoke-check registry's declared permissions, that only the stage's smoke-check CodeBuild role in
the tooling account may assume."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from keel.config import Delivery, EnvironmentConfig
from keel.delivery.checks import CHECKS, required_permissions
from keel.delivery.naming import (
    smoke_check_caller_role_arn,
    smoke_check_caller_role_name,
    smoke_check_role_arn,
    smoke_check_role_name,
)
from keel.naming import partition
from stacks.compliance import acknowledge


class SmokeCheckAccessStack(Stack):
    """Deployed by the pipeline with the environment's other stacks (in the environment's account)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        delivery: Delivery,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        caller_arn = smoke_check_caller_role_arn(delivery, config)
        # Trusting the account with a condition on the caller's ARN (not the role ARN as principal) keeps
        # the trust valid if the tooling role is ever re-created.
        self.role = iam.Role(
            self,
            "Role",
            role_name=smoke_check_role_name(config),
            assumed_by=iam.AccountPrincipal(delivery.account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": caller_arn}}
            ),
            description=f"Keel {config.name}: read-only smoke check run by the delivery pipeline",
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"What the smoke checks read: {', '.join(check.name for check in CHECKS)}",
            statements=[
                iam.PolicyStatement(
                    actions=list(permission.actions),
                    resources=list(permission.resources),
                    conditions=dict(permission.conditions) or None,
                )
                for permission in required_permissions(config)
            ],
            roles=[self.role],
        )
        acknowledge(
            self.policy,
            "kms:DescribeKey authorizes on the key, whose id is not known from the config; the "
            "kms:RequestAlias condition limits it to the environment's artifacts key.",
            f"AwsSolutions-IAM5[Resource::arn:{partition(config)}:kms:{config.region}:{config.account}:key/*]",
        )


class SmokeCheckCallerRole(Construct):
    """The tooling-account role one stage's smoke-check step runs as: it may assume only that stage's role."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            role_name=smoke_check_caller_role_name(config),
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Keel delivery: runs the smoke check of {config.name}",
        )
        self.target_role_arn = smoke_check_role_arn(config)
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[self.target_role_arn])
        )
