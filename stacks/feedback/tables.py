"""The feedback loops' DynamoDB tables: Powertools idempotency records, and the loops' state."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.feedback import idempotency, state
from keel.feedback.names import idempotency_table_name, state_table_name
from stacks.compliance import acknowledge


class FeedbackTables(Construct):
    """Both on demand, encrypted with the data key (they hold object keys and reviewer names), with
    point-in-time recovery and TTL expiry of records that are only needed for a while."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)

        def table(logical_id: str, name: str, keys: dict[str, str], ttl: str) -> dynamodb.Table:
            created = dynamodb.Table(
                self,
                logical_id,
                table_name=name,
                partition_key=dynamodb.Attribute(name=keys["pk"], type=dynamodb.AttributeType.STRING),
                sort_key=(
                    dynamodb.Attribute(name=keys["sk"], type=dynamodb.AttributeType.STRING)
                    if "sk" in keys
                    else None
                ),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=data_key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=ttl,
                deletion_protection=removal_policy == RemovalPolicy.RETAIN,
                removal_policy=removal_policy,
            )
            acknowledge(
                created,
                "Point-in-time recovery (35 days) protects the table; enrolling it in an AWS Backup plan is "
                "an account-level decision of the operator.",
                "HIPAA.Security-DynamoDBInBackupPlan",
                "NIST.800.53.R5-DynamoDBInBackupPlan",
            )
            return created

        self.idempotency = table(
            "Idempotency",
            idempotency_table_name(config),
            {"pk": idempotency.KEY_ATTRIBUTE},
            idempotency.TTL_ATTRIBUTE,
        )
        self.state = table(
            "State",
            state_table_name(config),
            {"pk": state.PARTITION_KEY, "sk": state.SORT_KEY},
            state.TTL_ATTRIBUTE,
        )

    def grant(self, grantee: iam.IGrantable) -> None:
        self.idempotency.grant_read_write_data(grantee)
        self.state.grant_read_write_data(grantee)
