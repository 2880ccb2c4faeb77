"""`cdk synth|deploy -c env=delivery`: the promotion pipeline app (one top-level stack, stages nested)."""

from __future__ import annotations

from aws_cdk import App, Environment

from keel.config import DEFAULTS_KEY, DELIVERY_KEY, ENVIRONMENTS_KEY, load_config, load_delivery
from keel.delivery.naming import PIPELINE_STACK_NAME
from stacks.compliance import add_compliance_checks
from stacks.delivery.stack import DeliveryStack


def build_delivery_app(app: App) -> DeliveryStack:
    context = {
        key: value
        for key in (DEFAULTS_KEY, ENVIRONMENTS_KEY, DELIVERY_KEY)
        if (value := app.node.try_get_context(key)) is not None
    }
    delivery = load_delivery(context)
    environments = [load_config(context, name) for name in delivery.stages]
    stack = DeliveryStack(
        app,
        PIPELINE_STACK_NAME,
        stack_name=PIPELINE_STACK_NAME,
        env=Environment(account=delivery.account, region=delivery.region),
        description="Keel delivery: promotes every environment in turn (CDK Pipelines)",
        delivery=delivery,
        environments=environments,
    )
    add_compliance_checks(app)
    return stack
