"""Compose Keel's stacks for one environment: names, tags, boundary and compliance checks in one place."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, RemovalPolicy, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import load_contract
from keel.feedback.names import feedback_stack_name
from keel.gate.settings import governance_stack_name
from keel.naming import StackConcern, stack_name
from stacks.compliance import add_compliance_checks, building_app
from stacks.data.stack import DataStack
from stacks.feedback.stack import FeedbackStack
from stacks.governance.stack import GovernanceStack
from stacks.ml.stack import MlStack
from stacks.monitoring.stack import MonitoringStack
from stacks.security.alerts import GLOBAL_EVENTS_REGION, receives_global_events
from stacks.security.global_events import GlobalEventsStack
from stacks.security.stack import SecurityStack
from stacks.serving.stack import ServingStack


@dataclass(frozen=True)
class KeelStacks:
    security: SecurityStack
    data: DataStack
    ml: MlStack
    feedback: FeedbackStack
    monitoring: MonitoringStack
    serving: ServingStack
    governance: GovernanceStack
    # None when the environment is in us-east-1 (its security stack sees IAM events itself).
    global_events: GlobalEventsStack | None = None


def build_environment(
    scope: Construct, config: EnvironmentConfig, *, with_global_events: bool = False
) -> KeelStacks:
    """Every stack of one environment inside `scope` (the app, or a CDK Pipelines stage).

    `with_global_events`: outside us-east-1, add the us-east-1 stack that forwards IAM policy changes to the
    environment's bus. Off by default because a CDK Pipelines stage deploying into a second region needs a
    replication bucket there that the delivery stack does not provide yet; the app (`cdk deploy`) turns it on.
    """
    env = Environment(account=config.account, region=config.region)
    removal_policy = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
    contract = load_contract(config.contract)

    def common(concern: StackConcern) -> dict[str, object]:
        return {
            "stack_name": stack_name(config, concern),
            "env": env,
            "description": f"Keel {config.name}: {concern.value.lower()}",
        }

    security = SecurityStack(
        scope,
        stack_name(config, StackConcern.SECURITY),
        config=config,
        removal_policy=removal_policy,
        **common(StackConcern.SECURITY),
    )
    global_events = None
    if with_global_events and not receives_global_events(config):
        global_events = GlobalEventsStack(
            scope,
            stack_name(config, StackConcern.GLOBAL_EVENTS),
            config=config,
            removal_policy=removal_policy,
            stack_name=stack_name(config, StackConcern.GLOBAL_EVENTS),
            env=Environment(account=config.account, region=GLOBAL_EVENTS_REGION),
            description=f"Keel {config.name}: global services' security events forwarded to {config.region}",
        )
        # Deploy order only (no cross-region reference): the rule receiving the forwards exists first.
        global_events.add_stack_dependency(security)
    data = DataStack(
        scope,
        stack_name(config, StackConcern.DATA),
        config=config,
        contracts=[contract],
        keys=security.keys,
        removal_policy=removal_policy,
        **common(StackConcern.DATA),
    )
    data.add_stack_dependency(security)
    ml = MlStack(
        scope,
        stack_name(config, StackConcern.ML),
        config=config,
        contract=contract,
        keys=security.keys,
        removal_policy=removal_policy,
        **common(StackConcern.ML),
    )
    ml.add_stack_dependency(data)
    feedback = FeedbackStack(
        scope,
        feedback_stack_name(config),
        config=config,
        contract=contract,
        keys=security.keys,
        removal_policy=removal_policy,
        stack_name=feedback_stack_name(config),
        env=env,
        description=f"Keel {config.name}: feedback loops",
    )
    feedback.add_stack_dependency(ml)  # starts the ML stack's pipeline; writes to the data stack's buckets
    governance = GovernanceStack(
        scope,
        governance_stack_name(config),
        config=config,
        contract=contract,
        keys=security.keys,
        removal_policy=removal_policy,
        stack_name=governance_stack_name(config),
        env=env,
        description=f"Keel {config.name}: governance (policy gate, Macie quarantine)",
    )
    governance.add_stack_dependency(ml)  # gates ML's model package group; reads the data stack's buckets
    monitoring = MonitoringStack(
        scope,
        stack_name(config, StackConcern.MONITORING),
        config=config,
        contract=contract,
        keys=security.keys,
        removal_policy=removal_policy,
        alert_topic=security.alerts.topic,
        **common(StackConcern.MONITORING),
    )
    monitoring.add_stack_dependency(feedback)
    serving = ServingStack(
        scope,
        stack_name(config, StackConcern.SERVING),
        config=config,
        contract=contract,
        keys=security.keys,
        removal_policy=removal_policy,
        **common(StackConcern.SERVING),
    )
    serving.add_stack_dependency(monitoring)  # rollback alarms exist before guarded endpoint updates

    for key, value in config.tags.items():
        Tags.of(scope).add(key, value)
    if config.security.permissions_boundary_arn:
        boundary = iam.ManagedPolicy.from_managed_policy_arn(
            security, "PermissionsBoundary", config.security.permissions_boundary_arn
        )
        for stack in (security, data, ml, feedback, governance, monitoring, serving):
            iam.PermissionsBoundary.of(stack).apply(boundary)
        if global_events is not None:
            # An imported policy is referenced by ARN, so the same boundary applies in us-east-1.
            iam.PermissionsBoundary.of(global_events).apply(
                iam.ManagedPolicy.from_managed_policy_arn(
                    global_events, "PermissionsBoundary", config.security.permissions_boundary_arn
                )
            )
    return KeelStacks(
        security=security,
        data=data,
        ml=ml,
        feedback=feedback,
        monitoring=monitoring,
        serving=serving,
        governance=governance,
        global_events=global_events,
    )


def build_app(app: App, config: EnvironmentConfig, *, compliance_checks: bool = True) -> KeelStacks:
    with building_app(app):
        stacks = build_environment(app, config, with_global_events=True)
    if compliance_checks:
        add_compliance_checks(app)
    return stacks
