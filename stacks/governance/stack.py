"""The governance stack: the policy gate on model package state changes, and the Macie quarantine.

Both functions share one KMS-encrypted DynamoDB table for Powertools idempotency (keyed on the EventBridge
event id). Resources of the other stacks are named from the config (keel.naming), so the only cross-stack
references are the KMS keys.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.gate.settings import GovernanceSettings
from keel.lineage.record import RECORD_EVENT_DETAIL_TYPE, RECORD_EVENT_SOURCE
from keel.naming import EVIDENCE_PREFIX
from keel.quarantine.quarantine import MACIE_QUARANTINE_PREFIX
from stacks.compliance import acknowledge
from stacks.governance.functions import GovernanceFunction
from stacks.governance.grants import grant_gate, grant_lineage_recorder, grant_quarantine
from stacks.governance.lineage import (
    PIPELINE_STATUS_DETAIL_TYPE,
    TERMINAL_STATUSES,
    deployed_code_environment,
)
from stacks.security.keys import KeelKeys

IDEMPOTENCY_KEY, IDEMPOTENCY_TTL = "id", "expiration"  # Powertools' DynamoDBPersistenceLayer defaults
GATE_TIMEOUT_SECONDS = 300  # hashes every training input version (up to GBs) before deciding
QUARANTINE_TIMEOUT_SECONDS = 120
RECORDER_TIMEOUT_SECONDS = 600  # hashes every training input version (up to GBs) of the run


class IdempotencyTable(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=name,
            partition_key=dynamodb.Attribute(name=IDEMPOTENCY_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=IDEMPOTENCY_TTL,
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        acknowledge(
            self.table,
            "Idempotency records expire within hours (TTL) and are rebuilt by a replay; point-in-time "
            "recovery protects the table, an AWS Backup plan would add nothing.",
            "HIPAA.Security-DynamoDBInBackupPlan",
            "NIST.800.53.R5-DynamoDBInBackupPlan",
        )


class GovernanceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contract: DatasetContract,
        keys: KeelKeys,
        removal_policy: RemovalPolicy | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        if removal_policy is None:
            removal_policy = (
                RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
            )
        settings = GovernanceSettings.from_config(config)
        self.settings = settings
        alert_topic = sns.Topic.from_topic_arn(self, "AlertTopic", settings.alert_topic_arn)
        self.idempotency = IdempotencyTable(
            self, "Idempotency", name=settings.idempotency_table, key=keys.logs, removal_policy=removal_policy
        ).table
        common = {
            "config": config,
            "settings": settings,
            "logs_key": keys.logs,
            "alert_topic": alert_topic,
            "removal_policy": removal_policy,
        }
        self.gate = GovernanceFunction(
            self,
            "PolicyGate",
            handler_name="policy_gate",
            description=f"Keel policy gate of {settings.model_package_group} ({contract.name} models)",
            timeout_seconds=GATE_TIMEOUT_SECONDS,
            reserved_concurrency=2,
            **common,  # type: ignore[arg-type]
        )
        grant_gate(self.gate, keys=keys, table=self.idempotency, topic=alert_topic)
        self.gate_rule = self.gate.invoke_on(
            "ModelPackageStateChanges",
            description=f"New versions and approval changes of {settings.model_package_group} go to the "
            "policy gate.",
            pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={"ModelPackageGroupName": [settings.model_package_group]},
            ),
        )
        # The record of every run is written by deployed code, on the execution's final status change; the
        # gate decides on a run's model package once that record exists (the second rule below).
        self.lineage_recorder = GovernanceFunction(
            self,
            "LineageRecorder",
            handler_name="lineage_recorder",
            description=f"Keel lineage recorder: the record of every run of {settings.pipeline_name}",
            timeout_seconds=RECORDER_TIMEOUT_SECONDS,
            reserved_concurrency=2,
            extra_environment=deployed_code_environment(contract),
            **common,  # type: ignore[arg-type]
        )
        grant_lineage_recorder(self.lineage_recorder, keys=keys, topic=alert_topic)
        self.lineage_rule = self.lineage_recorder.invoke_on(
            "ExecutionsEnded",
            description=f"Executions of {settings.pipeline_name} that ended (succeeded, failed or stopped) "
            "go to the lineage recorder.",
            pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[PIPELINE_STATUS_DETAIL_TYPE],
                detail={
                    "pipelineArn": [settings.pipeline_arn],
                    "currentPipelineExecutionStatus": list(TERMINAL_STATUSES),
                },
            ),
        )
        self.gate_record_rule = self.gate.invoke_on(
            "LineageRecords",
            description=f"A run's lineage record was written: the gate decides on the model package of "
            f"{settings.model_package_group} it registered.",
            pattern=events.EventPattern(
                source=[RECORD_EVENT_SOURCE],
                detail_type=[RECORD_EVENT_DETAIL_TYPE],
                detail={"ModelPackageArn": [{"prefix": settings.model_package_arn_prefix}]},
            ),
        )
        self.quarantine = GovernanceFunction(
            self,
            "MacieQuarantine",
            handler_name="macie_quarantine",
            description=f"Keel Macie quarantine: flagged objects move under {MACIE_QUARANTINE_PREFIX}",
            timeout_seconds=QUARANTINE_TIMEOUT_SECONDS,
            reserved_concurrency=2,
            **common,  # type: ignore[arg-type]
        )
        grant_quarantine(self.quarantine, keys=keys, table=self.idempotency, topic=alert_topic)
        self.quarantine_rule = self.quarantine.invoke_on(
            "MacieFindings",
            description=f"Macie findings on objects of {', '.join(settings.macie_buckets)} go to the "
            "quarantine.",
            pattern=events.EventPattern(
                source=["aws.macie"],
                detail_type=["Macie Finding"],
                detail={"resourcesAffected": {"s3Bucket": {"name": list(settings.macie_buckets)}}},
            ),
        )
        self.evidence_prefix = EVIDENCE_PREFIX
