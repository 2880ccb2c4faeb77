"""AWS::CDK::Metadata (the CDK's version-reporting resource) is accepted silently, as CloudFormation does.

moto logged a warning and a Python UserWarning for it in every CDK stack, burying the warnings that
matter (resource types that really are not emulated).
"""

from __future__ import annotations

from typing import Self

from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


class CdkMetadata(KeelModel):
    TYPE = "AWS::CDK::Metadata"

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        return cls(account_id=account_id, region_name=region_name, physical_id=name, properties=properties)

    @override
    def apply(self, properties: Properties) -> None:
        return None  # metadata only: nothing to update

    @override
    def remove(self) -> None:
        return None


def install() -> None:
    register(CdkMetadata)


EXTENSION = Extension(
    name="cfn-cdk-metadata",
    kind="cfn-model",
    what="AWS::CDK::Metadata is a no-op resource (listed in the stack, as in CloudFormation)",
    why="a warning per CDK stack hid the warnings about resource types that are really not emulated",
    upstream=True,
    install=install,
)
