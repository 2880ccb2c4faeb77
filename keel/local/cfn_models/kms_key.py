"""AWS::KMS::Key stored the way the KMS API stores it, with updates and CloudFormation's delete.

moto's model keeps `KeyPolicy` as the template's object (DescribeKey/GetKeyPolicy then answer HTTP 500),
has no update (a changed key vanished from the stack) and deletes keys at once; CloudFormation schedules
deletion after `PendingWindowInDays` (default 30), leaving the key `PendingDeletion`.
"""

from __future__ import annotations

from typing import Any, Self

from moto.kms.models import KmsBackend, kms_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_bool, as_json_text
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension

DEFAULT_PENDING_WINDOW_DAYS = 30


def _tags(properties: Properties) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in properties.get("Tags") or []}


class Key(KeelModel):
    TYPE = "AWS::KMS::Key"
    CREATE_ONLY = ("KeySpec", "KeyUsage", "MultiRegion", "Origin")
    ATTRIBUTES = ("Arn", "KeyId")

    def _backend(self) -> KmsBackend:
        return kms_backends[self.account_id][self.region_name]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        backend = kms_backends[account_id][region_name]
        key = backend.create_key(
            policy=as_json_text(properties["KeyPolicy"]) if properties.get("KeyPolicy") else None,
            key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
            description=properties.get("Description", ""),
            tags=[{"TagKey": k, "TagValue": v} for k, v in _tags(properties).items()],
            multi_region=as_bool(properties.get("MultiRegion")),
            origin=properties.get("Origin", "AWS_KMS"),
        )
        handle = cls(account_id=account_id, region_name=region_name, physical_id=key.id, properties={})
        handle.apply(properties)
        return handle

    @override
    def apply(self, properties: Properties) -> None:
        backend, key_id = self._backend(), self.physical_id
        if properties.get("KeyPolicy"):
            backend.put_key_policy(key_id, as_json_text(properties["KeyPolicy"]))
        backend.update_key_description(key_id, properties.get("Description", ""))
        if as_bool(properties.get("EnableKeyRotation")):
            backend.enable_key_rotation(key_id)
        else:
            backend.disable_key_rotation(key_id)
        if as_bool(properties.get("Enabled"), default=True):
            backend.enable_key(key_id)
        else:
            backend.disable_key(key_id)
        old_tags, new_tags = _tags(self.properties), _tags(properties)
        if removed := [k for k in old_tags if k not in new_tags]:
            backend.untag_resource(key_id, removed)
        if new_tags:
            backend.tag_resource(key_id, new_tags)

    @override
    def remove(self) -> None:
        key = self._backend().keys.get(self.physical_id)
        if key is None or key.key_state == "PendingDeletion":
            return
        days = int(self.properties.get("PendingWindowInDays") or DEFAULT_PENDING_WINDOW_DAYS)
        self._backend().schedule_key_deletion(self.physical_id, days)

    @override
    def attribute(self, name: str) -> Any:
        return self._backend().keys[self.physical_id].arn if name == "Arn" else self.physical_id


def install() -> None:
    register(Key)


EXTENSION = Extension(
    name="cfn-kms-key",
    kind="cfn-model",
    what="AWS::KMS::Key stores KeyPolicy as JSON text; updates policy, description, rotation, "
    "enabled, tags; delete schedules deletion (PendingWindowInDays)",
    why="a dict policy made DescribeKey answer HTTP 500; no update model; keys vanished at once",
    upstream=True,
    install=install,
)
