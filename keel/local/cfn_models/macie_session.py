"""AWS::Macie::Session through moto's Macie2 backend (moto skips the type).

The Macie2 extension (`patches.macie_classification_jobs`) makes an account start with Macie disabled,
as in AWS, so the session really comes from this resource.
"""

from __future__ import annotations

from typing import Any, Self

from moto.core.utils import utcnow
from moto.macie2.models import MacieBackend, macie2_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension

DEFAULT_FREQUENCY = "SIX_HOURS"  # CloudFormation's default for FindingPublishingFrequency


class MacieSession(KeelModel):
    TYPE = "AWS::Macie::Session"
    ATTRIBUTES = ("AwsAccountId", "ServiceRole", "AutomatedDiscoveryStatus")

    def _backend(self) -> MacieBackend:
        return macie2_backends[self.account_id][self.region_name]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        macie2_backends[account_id][region_name].enable_macie(
            properties.get("FindingPublishingFrequency", DEFAULT_FREQUENCY),
            properties.get("Status", "ENABLED"),
        )
        return cls(
            account_id=account_id, region_name=region_name, physical_id=account_id, properties=properties
        )

    @override
    def apply(self, properties: Properties) -> None:
        session = self._backend().macie_session
        if session is None:  # disabled behind CloudFormation's back: enable again
            self._backend().enable_macie(properties.get("FindingPublishingFrequency", DEFAULT_FREQUENCY))
            session = self._backend().macie_session
        assert session is not None
        session["findingPublishingFrequency"] = properties.get(
            "FindingPublishingFrequency", DEFAULT_FREQUENCY
        )
        session["status"] = properties.get("Status", "ENABLED")
        session["updatedAt"] = utcnow()

    @override
    def remove(self) -> None:
        self._backend().disable_macie()

    @override
    def attribute(self, name: str) -> Any:
        if name == "ServiceRole":
            session = self._backend().macie_session or {}
            return session.get("serviceRole")
        if name == "AutomatedDiscoveryStatus":
            return "DISABLED"
        return self.physical_id


def install() -> None:
    register(MacieSession)


EXTENSION = Extension(
    name="cfn-macie-session",
    kind="cfn-model",
    what="AWS::Macie::Session (enable, update frequency/status, delete → Macie disabled)",
    why="moto skips the type (and starts every account with Macie already enabled)",
    upstream=True,
    install=install,
)
