"""AWS::SQS::QueuePolicy → the `Policy` attribute of each queue (moto skips the type).

Also keeps a queue's policy when other attributes are set: moto's `_set_attributes` resets the policy
whenever `Policy` is not among the attributes, so any later queue update wiped it.
"""

from __future__ import annotations

import contextlib
from typing import Any, Self

from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.models import Queue, SQSBackend, sqs_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_json_text
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


def _queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


class QueuePolicy(KeelModel):
    TYPE = "AWS::SQS::QueuePolicy"
    ATTRIBUTES = ("Id",)

    def _backend(self) -> SQSBackend:
        return sqs_backends[self.account_id][self.region_name]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        policy = cls(account_id=account_id, region_name=region_name, physical_id=name, properties={})
        policy.apply(properties)
        return policy

    @override
    def apply(self, properties: Properties) -> None:
        document = as_json_text(properties["PolicyDocument"])
        for queue_url in properties["Queues"]:
            self._backend().get_queue(_queue_name(queue_url)).policy = document
        for queue_url in set(self.properties.get("Queues") or []) - set(properties["Queues"]):
            self._reset(queue_url)

    def _reset(self, queue_url: str) -> None:
        with contextlib.suppress(QueueDoesNotExist):
            self._backend().get_queue(_queue_name(queue_url)).policy = None

    @override
    def remove(self) -> None:
        for queue_url in self.properties.get("Queues") or []:
            self._reset(queue_url)

    @override
    def attribute(self, name: str) -> str:
        return self.physical_id


def _keep_policy_on_attribute_updates() -> None:
    original = Queue._set_attributes

    def _set_attributes(self: Queue, attributes: dict[str, Any], now: float | None = None) -> None:
        kept = None if "Policy" in attributes else getattr(self, "_policy_json", None)
        original(self, attributes, now)
        if kept is not None:
            self._policy_json = kept

    Queue._set_attributes = _set_attributes  # type: ignore[method-assign]


def install() -> None:
    register(QueuePolicy)
    _keep_policy_on_attribute_updates()


EXTENSION = Extension(
    name="cfn-sqs-queue-policy",
    kind="cfn-model",
    what="AWS::SQS::QueuePolicy (create, update, delete); queue updates no longer wipe the policy",
    why="moto skips the type, and SetQueueAttributes without Policy reset an existing policy",
    upstream=True,
    install=install,
)
