"""The security stack: keys, audit trail, Macie and security alerts of one environment."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.naming import BucketPurpose, bucket_name
from stacks.constructs.secure_bucket import AccessLogsBucket
from stacks.security.alerts import SecurityAlerts
from stacks.security.keys import KeelKeys
from stacks.security.macie import MacieSession
from stacks.security.trail import AuditTrail


class SecurityStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        removal_policy: RemovalPolicy,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.keys = KeelKeys(self, "Keys", config=config, removal_policy=removal_policy)
        self.audit_access_logs = AccessLogsBucket(
            self,
            "AuditAccessLogs",
            bucket_name=bucket_name(config, BucketPurpose.AUDIT_ACCESS_LOGS),
            expire_after_days=config.retention.access_log_days,
        ).bucket
        self.trail = AuditTrail(
            self,
            "AuditTrail",
            config=config,
            key=self.keys.logs,
            access_logs_bucket=self.audit_access_logs,
            removal_policy=removal_policy,
        )
        self.alerts = SecurityAlerts(
            self, "Alerts", config=config, key=self.keys.logs, removal_policy=removal_policy
        )
        self.macie = MacieSession(self, "Macie") if config.security.macie_enabled else None
