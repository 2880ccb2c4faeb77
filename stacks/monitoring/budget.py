"""The environment's monthly cost budget, filtered on the cost-allocation tag `environment`, alerting the
encrypted alert topic at a share of actual spend and at 100 % of forecast spend.

AWS Budgets publishes to an SNS topic only if the topic policy lets budgets.amazonaws.com publish and, for an
encrypted topic, the key policy lets it use the key: `allow_budget_alerts` adds both statements to the
security stack's topic and key (the `environment` tag must also be activated as a cost-allocation tag in the
Billing console, once per account).
"""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.monitoring.settings import MonitoringSettings

COST_TAG = "environment"


def budget_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-monthly"


class EnvironmentBudget(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        settings: MonitoringSettings,
        alert_topic_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        subscribers = [budgets.CfnBudget.SubscriberProperty(address=alert_topic_arn, subscription_type="SNS")]

        def notify(kind: str, percent: float) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    comparison_operator="GREATER_THAN",
                    notification_type=kind,
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=subscribers,
            )

        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=budget_name(config),
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=settings.monthly_budget_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:{COST_TAG}${config.tags[COST_TAG]}"]},
            ),
            notifications_with_subscribers=[
                notify("ACTUAL", settings.budget_alert_percent),
                notify("FORECASTED", 100),
            ],
        )


def allow_budget_alerts(topic: sns.Topic, key: kms.IKey, *, account: str) -> None:
    """Let AWS Budgets (of this account only) publish to the encrypted alert topic."""
    principal = iam.ServicePrincipal("budgets.amazonaws.com")
    condition = {"StringEquals": {"aws:SourceAccount": account}}
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowBudgetsToPublish",
            principals=[principal],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions=condition,
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowBudgetsToEncryptAlerts",
            principals=[principal],
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            resources=["*"],
            conditions=condition,
        )
    )
