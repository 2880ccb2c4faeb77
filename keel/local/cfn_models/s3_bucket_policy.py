"""AWS::S3::BucketPolicy → the bucket's policy in moto's S3 backend (moto skips the type)."""

from __future__ import annotations

import contextlib
from typing import Self

from moto.s3.exceptions import MissingBucket
from moto.s3.models import S3Backend, s3_backends
from moto.utilities.utils import get_partition
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_json_text
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


class BucketPolicy(KeelModel):
    TYPE = "AWS::S3::BucketPolicy"
    CREATE_ONLY = ("Bucket",)

    def _backend(self) -> S3Backend:
        return s3_backends[self.account_id][get_partition(self.region_name)]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        policy = cls(
            account_id=account_id,
            region_name=region_name,
            physical_id=properties["Bucket"],
            properties=properties,
        )
        policy.apply(properties)
        return policy

    @override
    def apply(self, properties: Properties) -> None:
        self._backend().put_bucket_policy(
            properties["Bucket"], as_json_text(properties["PolicyDocument"]).encode()
        )

    @override
    def remove(self) -> None:
        with contextlib.suppress(MissingBucket):
            self._backend().delete_bucket_policy(self.properties["Bucket"])


def install() -> None:
    register(BucketPolicy)


EXTENSION = Extension(
    name="cfn-s3-bucket-policy",
    kind="cfn-model",
    what="AWS::S3::BucketPolicy (create, update, delete)",
    why="moto skips the type: no policy, so enforce-SSL and log-delivery grants never existed locally",
    upstream=True,
    install=install,
)
