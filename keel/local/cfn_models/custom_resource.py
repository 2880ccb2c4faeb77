"""`Custom::*` resources executed in-process by the Python providers in `keel.local.custom_resources`.

moto would invoke the provider Lambda (needs Docker) and wait for its callback forever. Here a registered
type runs its provider synchronously with boto3 clients pointed at this server, with the same request
CloudFormation sends (Create/Update/Delete, scalars as strings, OldResourceProperties, cleanup Delete
after a replacing Update); an unregistered type fails the stack with a clear message.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any, Self

import boto3
from typing_extensions import override

from keel.local import custom_resources
from keel.local.cfn_models.base import KeelModel, Properties
from keel.local.cfn_models.registry import ModelClass, set_custom_resolver
from keel.local.envfile import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY
from keel.local.extensions import Extension
from keel.local.server import ENDPOINT_ENV

LOG = logging.getLogger("keel.local")


class CustomResourceFailedError(Exception):
    pass


def _client(service: str, region_name: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=os.environ[ENDPOINT_ENV],
        region_name=region_name,
        aws_access_key_id=FAKE_ACCESS_KEY_ID,
        aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
    )


class CustomResource(KeelModel):
    TYPE = "Custom::*"  # resolved per type by the custom resolver, never through the model map

    def __init__(
        self, *, resource_type: str, logical_id: str, stack_id: str, data: dict[str, Any], **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.resource_type = resource_type
        self.logical_id = logical_id
        self.stack_id = stack_id
        self.data = data

    @classmethod
    @override
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # a provider may return any attribute

    @override
    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.data:
            raise CustomResourceFailedError(
                f"{self.resource_type} {self.logical_id}: provider returned no attribute {attribute_name!r}"
            )
        return self.data[attribute_name]

    @staticmethod
    def _invoke(
        resource_type: str, region_name: str, event: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any]]:
        provider = custom_resources.get(resource_type)
        if provider is None:
            raise CustomResourceFailedError(f"no local provider registered for {resource_type}")
        label = f"{resource_type} {event['LogicalResourceId']} ({event['RequestType']})"
        try:
            function = provider.load()
            clients = [_client(service, region_name) for service in provider.clients]
            response = function(event, *clients) or {}
        except Exception as error:
            LOG.exception("custom resource %s failed", label)
            raise CustomResourceFailedError(f"{label} failed: {error}") from error
        LOG.info("custom resource %s → %s", label, response.get("PhysicalResourceId"))
        return response.get("PhysicalResourceId"), dict(response.get("Data") or {})

    @staticmethod
    def _event(
        request: str, resource_type: str, logical_id: str, stack_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {
            "RequestType": request,
            "ServiceToken": properties.get("ServiceToken", ""),
            # Local providers return their response instead of calling this URL back.
            "ResponseURL": "http://localhost/keel-local/no-callback",
            "StackId": stack_id,
            "RequestId": str(uuid.uuid4()),
            "ResourceType": resource_type,
            "LogicalResourceId": logical_id,
            "ResourceProperties": custom_resources.stringify(properties),
        }

    @classmethod
    @override
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Self:
        properties = dict(cloudformation_json.get("Properties") or {})
        resource_type, logical_id, stack_id = kwargs["ResourceType"], kwargs["LogicalId"], kwargs["StackId"]
        event = cls._event("Create", resource_type, logical_id, stack_id, properties)
        physical_id, data = cls._invoke(resource_type, region_name, event)
        return cls(
            resource_type=resource_type,
            logical_id=logical_id,
            stack_id=stack_id,
            data=data,
            account_id=account_id,
            region_name=region_name,
            physical_id=physical_id or f"{logical_id}-{event['RequestId']}",
            properties=properties,
        )

    @classmethod
    @override
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Self:
        old: CustomResource = original_resource
        properties = dict(cloudformation_json.get("Properties") or {})
        event = cls._event("Update", old.resource_type, old.logical_id, old.stack_id, properties)
        event["PhysicalResourceId"] = old.physical_id
        event["OldResourceProperties"] = custom_resources.stringify(old.properties)
        physical_id, data = cls._invoke(old.resource_type, region_name, event)
        if physical_id and physical_id != old.physical_id:
            old.remove()  # CloudFormation's cleanup phase deletes the replaced resource
            old.physical_id = physical_id
        old.properties, old.data = properties, data
        return old  # type: ignore[return-value]

    @override
    def remove(self) -> None:
        event = self._event("Delete", self.resource_type, self.logical_id, self.stack_id, self.properties)
        event["PhysicalResourceId"] = self.physical_id
        self._invoke(self.resource_type, self.region_name, event)

    @override
    def apply(self, properties: Properties) -> None:  # updates go through update_from_cloudformation_json
        raise NotImplementedError


class UnsupportedCustomResource(CustomResource):
    @classmethod
    @override
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Self:
        raise CustomResourceFailedError(
            f"{kwargs['ResourceType']} {kwargs['LogicalId']}: no local provider (its Lambda cannot run "
            "without Docker); register a Python provider in keel.local.custom_resources or with "
            "`python -m keel.local.server --provider`"
        )


def _resolve(resource_type: str) -> ModelClass:
    return CustomResource if custom_resources.get(resource_type) else UnsupportedCustomResource


def install() -> None:
    set_custom_resolver(_resolve)


EXTENSION = Extension(
    name="cfn-custom-resources",
    kind="cfn-model",
    what="Custom::* resources run a registered Python provider in-process (Create/Update/Delete with "
    "CloudFormation's request shape); built in: Custom::KeelMacieClassificationJob, "
    "Custom::S3AutoDeleteObjects, Custom::LogRetention; unregistered types fail fast",
    why="provider Lambdas need Docker, so moto left custom resources CREATE_IN_PROGRESS forever",
    upstream=False,
    install=install,
)
