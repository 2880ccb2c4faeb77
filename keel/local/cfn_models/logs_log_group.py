"""AWS::Logs::LogGroup that keeps its KMS key and can be updated.

moto's model passes `KmsKeyId` where its backend expects `kmsKeyId` (the key was dropped) and has no
update (a changed log group vanished from the stack).
"""

from __future__ import annotations

import contextlib
from typing import Self

from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.models import LogGroup as MotoLogGroup
from moto.logs.models import LogsBackend, logs_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, tag_dict
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


class LogGroup(KeelModel):
    TYPE = "AWS::Logs::LogGroup"
    NAME_PROPERTY = "LogGroupName"
    CREATE_ONLY = ("LogGroupName",)
    ATTRIBUTES = ("Arn",)

    def _backend(self) -> LogsBackend:
        return logs_backends[self.account_id][self.region_name]

    def _group(self) -> MotoLogGroup:
        return self._backend().groups[self.physical_id]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        logs_backends[account_id][region_name].create_log_group(name, tag_dict(properties))
        handle = cls(account_id=account_id, region_name=region_name, physical_id=name, properties={})
        handle.apply(properties)
        return handle

    @override
    def apply(self, properties: Properties) -> None:
        backend, group = self._backend(), self._group()
        retention = properties.get("RetentionInDays")
        if retention is not None:
            backend.put_retention_policy(group.name, int(retention))  # type: ignore[arg-type] # the API holds ints
        else:
            backend.delete_retention_policy(group.name)
        group.kms_key_id = properties.get("KmsKeyId")
        removed = [key for key in tag_dict(self.properties) if key not in tag_dict(properties)]
        if removed:
            backend.untag_resource(group.arn, removed)
        backend.tag_resource(group.arn, tag_dict(properties))

    @override
    def remove(self) -> None:
        with contextlib.suppress(ResourceNotFoundException):
            self._backend().delete_log_group(self.physical_id)

    @override
    def attribute(self, name: str) -> str:
        return f"{self._group().arn}:*"  # CloudFormation's Arn of a log group ends with ":*"


def install() -> None:
    register(LogGroup)


EXTENSION = Extension(
    name="cfn-logs-log-group",
    kind="cfn-model",
    what="AWS::Logs::LogGroup keeps KmsKeyId; updates retention, KMS key and tags",
    why="moto dropped KmsKeyId (wrong key case) and had no update",
    upstream=True,
    install=install,
)
