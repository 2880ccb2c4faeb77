"""AWS::SNS::Subscription through moto's SNS backend (moto skips the type: nothing was subscribed).

Email subscriptions stay pending confirmation, as in SNS; the other protocols are confirmed at once.
"""

from __future__ import annotations

from typing import Self

from moto.sns.models import SNSBackend, sns_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_bool, as_json_text
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension

ATTRIBUTES = ("DeliveryPolicy", "FilterPolicyScope", "FilterPolicy", "RedrivePolicy", "SubscriptionRoleArn")
CONFIRMED_BY_RECIPIENT = ("email", "email-json")


class Subscription(KeelModel):
    TYPE = "AWS::SNS::Subscription"
    CREATE_ONLY = ("TopicArn", "Protocol", "Endpoint")
    ATTRIBUTES = ("Arn",)

    def _backend(self) -> SNSBackend:
        return sns_backends[self.account_id][self.region_name]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        backend = sns_backends[account_id][region_name]
        protocol = properties["Protocol"]
        subscription = backend.subscribe(properties["TopicArn"], properties["Endpoint"], protocol)
        subscription.attributes["PendingConfirmation"] = protocol in CONFIRMED_BY_RECIPIENT
        handle = cls(
            account_id=account_id, region_name=region_name, physical_id=subscription.arn, properties={}
        )
        handle.apply(properties)
        return handle

    @override
    def apply(self, properties: Properties) -> None:
        backend = self._backend()
        # The scope goes first: moto validates the filter policy against it.
        for name in ATTRIBUTES:
            if name in properties:
                backend.set_subscription_attributes(self.physical_id, name, as_json_text(properties[name]))
            elif name in self.properties:
                backend.set_subscription_attributes(self.physical_id, name, "")
        # moto tests the value's truth, so "false" would mean raw: keep its own False for off.
        subscription = backend.subscriptions[self.physical_id]
        subscription.attributes["RawMessageDelivery"] = (
            "true" if as_bool(properties.get("RawMessageDelivery")) else False
        )

    @override
    def remove(self) -> None:
        self._backend().unsubscribe(self.physical_id)

    @override
    def attribute(self, name: str) -> str:
        return self.physical_id


def install() -> None:
    register(Subscription)


EXTENSION = Extension(
    name="cfn-sns-subscription",
    kind="cfn-model",
    what="AWS::SNS::Subscription (SQS, Lambda, email, ...; raw delivery, filter policy + scope, redrive "
    "policy); email stays pending confirmation",
    why="moto skips the type: SNS → SQS fan-out and alert e-mails were never subscribed",
    upstream=True,
    install=install,
)
