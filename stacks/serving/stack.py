"""The serving stack: the endpoint's execution role and the model deployer, which deploys every approved
version to Keel's real-time (or serverless) endpoint with KMS, data capture, autoscaling and SageMaker
deployment guardrails (blue/green, canary or linear, auto-rollback on the monitoring stack's alarms).

The endpoint itself is created at the first approval, not by CloudFormation: there is no model to serve
before one is approved. Everything is found by name; only the keys come from another stack.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.naming import alert_topic_name, partition
from keel.serving.runtime import deployer_settings
from keel.serving.settings import ServingSettings, serving_settings
from stacks.security.keys import KeelKeys
from stacks.serving.deployer import ModelDeployer
from stacks.serving.roles import EndpointRole


class ServingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        keys: KeelKeys,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        settings: ServingSettings | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.contract = contract
        self.settings = settings or serving_settings(config)
        topic_arn = f"arn:{partition(config)}:sns:{config.region}:{config.account}:{alert_topic_name(config)}"
        alert_topic = sns.Topic.from_topic_arn(self, "AlertTopic", topic_arn)
        self.endpoint_role = EndpointRole(self, "EndpointRole", config=config, artifacts_key=keys.artifacts)
        self.deployer_settings = deployer_settings(config, self.settings)
        self.deployer = ModelDeployer(
            self,
            "ModelDeployer",
            config=config,
            settings=self.deployer_settings,
            endpoint_role_arn=self.deployer_settings.execution_role_arn,
            artifacts_key=keys.artifacts,
            logs_key=keys.logs,
            alert_topic=alert_topic,
            removal_policy=removal_policy,
        )
