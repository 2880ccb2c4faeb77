"""Compose Keel's stacks for one environment: names, tags, boundary and compliance checks in one place."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, RemovalPolicy, Tags
from aws_cdk import aws_iam as iam

from keel.config import EnvironmentConfig
from keel.contract import load_contract
from keel.naming import StackConcern, stack_name
from stacks.compliance import add_compliance_checks
from stacks.data.stack import DataStack
from stacks.ml.stack import MlStack
from stacks.security.stack import SecurityStack


@dataclass(frozen=True)
class KeelStacks:
    security: SecurityStack
    data: DataStack
    ml: MlStack


def build_app(app: App, config: EnvironmentConfig, *, compliance_checks: bool = True) -> KeelStacks:
    env = Environment(account=config.account, region=config.region)
    removal_policy = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
    contracts = [load_contract(config.contract)]

    def name(concern: StackConcern) -> dict[str, object]:
        return {
            "stack_name": stack_name(config, concern),
            "env": env,
            "description": f"Keel {config.name}: {concern.value.lower()}",
        }

    security = SecurityStack(
        app,
        stack_name(config, StackConcern.SECURITY),
        config=config,
        removal_policy=removal_policy,
        **name(StackConcern.SECURITY),
    )
    data = DataStack(
        app,
        stack_name(config, StackConcern.DATA),
        config=config,
        contracts=contracts,
        keys=security.keys,
        removal_policy=removal_policy,
        **name(StackConcern.DATA),
    )
    data.add_stack_dependency(security)
    ml = MlStack(
        app,
        stack_name(config, StackConcern.ML),
        config=config,
        contract=contracts[0],
        keys=security.keys,
        removal_policy=removal_policy,
        **name(StackConcern.ML),
    )
    ml.add_stack_dependency(data)

    for key, value in config.tags.items():
        Tags.of(app).add(key, value)
    if config.security.permissions_boundary_arn:
        boundary = iam.ManagedPolicy.from_managed_policy_arn(
            app, "PermissionsBoundary", config.security.permissions_boundary_arn
        )
        iam.PermissionsBoundary.of(app).apply(boundary)
    if compliance_checks:
        add_compliance_checks(app)
    return KeelStacks(security=security, data=data, ml=ml)
