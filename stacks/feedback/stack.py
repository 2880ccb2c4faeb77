"""The feedback stack: the four loops that start retraining — data, streaming, performance, human — with their
shared DynamoDB tables. Names come from `keel.naming`/`keel.feedback.names`, so nothing here needs outputs of
other stacks except the keys."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.feedback.names import FeedbackFunction
from keel.naming import alert_topic_name, partition
from stacks.feedback.function import FeedbackLambda
from stacks.feedback.human import HumanFeedbackLoop
from stacks.feedback.loops import DataTriggerLoop, PerformanceLoop, StreamLoop
from stacks.feedback.tables import FeedbackTables
from stacks.security.keys import KeelKeys

_DESCRIPTIONS = {
    FeedbackFunction.DATA_TRIGGER: "Keel data trigger: landed objects start training (debounced, idempotent)",
    FeedbackFunction.STREAM_INGEST: "Keel streaming trigger: validated micro-batches to the raw bucket",
    FeedbackFunction.PERFORMANCE_TRIGGER: "Keel performance trigger: drift/quality alarms start retraining",
    FeedbackFunction.FEEDBACK_INGEST: "Keel human feedback: corrections, dataset, model-quality metric",
}


class FeedbackStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        keys: KeelKeys,
        removal_policy: RemovalPolicy,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        # By ARN from the naming convention: no cross-stack export for the security stack's topic.
        alert_topic = sns.Topic.from_topic_arn(
            self,
            "AlertTopic",
            f"arn:{partition(config)}:sns:{config.region}:{config.account}:{alert_topic_name(config)}",
        )
        self.tables = FeedbackTables(
            self, "Tables", config=config, data_key=keys.data, removal_policy=removal_policy
        )

        def function(which: FeedbackFunction, construct_id: str) -> FeedbackLambda:
            return FeedbackLambda(
                self,
                construct_id,
                config=config,
                function=which,
                description=_DESCRIPTIONS[which],
                logs_key=keys.logs,
                tables=self.tables,
                alert_topic=alert_topic,
                removal_policy=removal_policy,
            )

        self.functions = {
            which: function(which, construct_id)
            for which, construct_id in (
                (FeedbackFunction.DATA_TRIGGER, "DataTrigger"),
                (FeedbackFunction.STREAM_INGEST, "StreamIngest"),
                (FeedbackFunction.PERFORMANCE_TRIGGER, "PerformanceTrigger"),
                (FeedbackFunction.FEEDBACK_INGEST, "FeedbackIngest"),
            )
        }
        self.data_trigger = DataTriggerLoop(
            self,
            "DataLoop",
            config=config,
            contract=contract,
            function=self.functions[FeedbackFunction.DATA_TRIGGER],
            data_key=keys.data,
            artifacts_key=keys.artifacts,
        )
        self.stream = StreamLoop(
            self,
            "StreamLoop",
            config=config,
            contract=contract,
            function=self.functions[FeedbackFunction.STREAM_INGEST],
            data_key=keys.data,
            artifacts_key=keys.artifacts,
            logs_key=keys.logs,
        )
        self.performance = PerformanceLoop(
            self,
            "PerformanceLoop",
            config=config,
            function=self.functions[FeedbackFunction.PERFORMANCE_TRIGGER],
            artifacts_key=keys.artifacts,
        )
        self.human = HumanFeedbackLoop(
            self,
            "HumanLoop",
            config=config,
            contract=contract,
            function=self.functions[FeedbackFunction.FEEDBACK_INGEST],
            data_key=keys.data,
            artifacts_key=keys.artifacts,
            logs_key=keys.logs,
            removal_policy=removal_policy,
        )
