"""Deleting an AWS::IAM::ManagedPolicy stack resource detaches and deletes the policy.

moto's ManagedPolicy model has no delete: stack deletion skipped it silently, so the policy stayed
attached and the role it names could not be deleted ("DeleteConflict: must detach all policies first"):
`cdk destroy` of a stack with a managed policy on its own role ended DELETE_FAILED. CloudFormation
detaches the policy from the roles, users and groups it names and deletes it.
"""

from __future__ import annotations

from moto.iam.models import ManagedPolicy, iam_backends
from moto.utilities.utils import get_partition

from keel.local.extensions import Extension


def delete(self: ManagedPolicy, account_id: str, region_name: str) -> None:
    backend = iam_backends[account_id][get_partition(region_name)]
    for entities in (backend.roles, backend.users, backend.groups):
        for entity in entities.values():
            if self.arn in entity.managed_policies:
                self.detach_from(entity)
    if self.arn in backend.managed_policies:
        backend.delete_policy(self.arn)


def install() -> None:
    ManagedPolicy.delete = delete  # type: ignore[attr-defined]


EXTENSION = Extension(
    name="iam-managed-policy-delete",
    kind="fix",
    what="deleting an AWS::IAM::ManagedPolicy stack resource detaches it (roles, users, groups) and "
    "deletes it",
    why="moto skipped the deletion: the policy stayed attached and its role could not be deleted, so "
    "destroying a stack with a managed policy ended DELETE_FAILED",
    upstream=True,
    install=install,
)
