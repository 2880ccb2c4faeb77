"""AWS::SNS::TopicPolicy → the `Policy` attribute of each topic (moto skips the type)."""

from __future__ import annotations

import contextlib
from typing import Self

from moto.sns.exceptions import SNSNotFoundError
from moto.sns.models import SNSBackend, sns_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_json_text
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


class TopicPolicy(KeelModel):
    TYPE = "AWS::SNS::TopicPolicy"
    ATTRIBUTES = ("Id",)

    def _backend(self) -> SNSBackend:
        return sns_backends[self.account_id][self.region_name]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        policy = cls(account_id=account_id, region_name=region_name, physical_id=name, properties={})
        policy.apply(properties)
        return policy

    @override
    def apply(self, properties: Properties) -> None:
        backend = self._backend()
        document = as_json_text(properties["PolicyDocument"])
        for topic_arn in properties["Topics"]:
            backend.set_topic_attribute(topic_arn, "policy", document)
        # Topics dropped from the list go back to their default policy, as in SNS.
        for topic_arn in set(self.properties.get("Topics") or []) - set(properties["Topics"]):
            self._reset(topic_arn)

    def _reset(self, topic_arn: str) -> None:
        backend = self._backend()
        with contextlib.suppress(SNSNotFoundError, KeyError):
            topic = backend.get_topic(topic_arn)
            topic._policy_json = topic._create_default_topic_policy(
                self.region_name, topic.account_id, topic.name
            )

    @override
    def remove(self) -> None:
        for topic_arn in self.properties.get("Topics") or []:
            self._reset(topic_arn)

    @override
    def attribute(self, name: str) -> str:
        return self.physical_id


def install() -> None:
    register(TopicPolicy)


EXTENSION = Extension(
    name="cfn-sns-topic-policy",
    kind="cfn-model",
    what="AWS::SNS::TopicPolicy (create, update incl. removed topics, delete → default policy)",
    why="moto skips the type: topics kept their default policy",
    upstream=True,
    install=install,
)
