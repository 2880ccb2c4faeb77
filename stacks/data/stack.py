"""The data stack: buckets, the Glue Data Catalog, and Macie's classification job over the data."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from stacks.data.buckets import DataBuckets
from stacks.data.catalog import DataCatalog
from stacks.security.keys import KeelKeys
from stacks.security.macie import MacieClassificationJob


class DataStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contracts: list[DatasetContract],
        keys: KeelKeys,
        removal_policy: RemovalPolicy,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.buckets = DataBuckets(
            self,
            "Buckets",
            config=config,
            data_key=keys.data,
            artifacts_key=keys.artifacts,
            audit_key=keys.logs,
            removal_policy=removal_policy,
        )
        self.catalog = DataCatalog(
            self,
            "Catalog",
            config=config,
            contracts=contracts,
            buckets=dict(self.buckets.by_purpose),
            data_key=keys.data,
            logs_key=keys.logs,
        )
        if config.security.macie_enabled:
            # The job scans the buckets, so it lives with them (and is created after them).
            self.macie_job: MacieClassificationJob | None = MacieClassificationJob(
                self, "MacieJob", config=config, logs_key=keys.logs, removal_policy=removal_policy
            )
            self.macie_job.node.add_dependency(self.buckets)
        else:
            self.macie_job = None
