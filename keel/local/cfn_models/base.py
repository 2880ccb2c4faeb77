"""The base of Keel's CloudFormation models: a handle on one resource that lives in a moto backend.

moto's parser calls class methods with the template's resolved JSON; subclasses implement four small
hooks instead (`create`, `apply`, `remove`, `attribute`) and declare their type, name property,
create-only properties (a change replaces the resource, as in CloudFormation) and GetAtt attributes.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, ClassVar, Self

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from typing_extensions import override

Properties = dict[str, Any]


class KeelModel(CloudFormationModel):
    TYPE: ClassVar[str] = ""
    NAME_PROPERTY: ClassVar[str] = ""
    CREATE_ONLY: ClassVar[tuple[str, ...]] = ()
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, account_id: str, region_name: str, physical_id: str, properties: Properties):
        self.account_id = account_id
        self.region_name = region_name
        self.physical_id = physical_id
        self.properties = properties

    # -- hooks for subclasses ------------------------------------------------------------------------
    @classmethod
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        """Create the resource in its backend; `name` is the name property or a generated name."""
        raise NotImplementedError

    def apply(self, properties: Properties) -> None:
        """Update the resource in place to `properties` (only called when no create-only one changed)."""
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError

    def attribute(self, name: str) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} declares attribute {name!r} but does not implement it"
        )

    @classmethod
    def needs_replacement(cls, old: Properties, new: Properties) -> bool:
        """A change of a create-only property replaces the resource, as in CloudFormation."""
        return any(new.get(key) != old.get(key) for key in cls.CREATE_ONLY)

    # -- moto's CloudFormationModel interface -----------------------------------------------------------
    @classmethod
    @override
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    @override
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    @override
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return self.attribute(attribute_name)

    @override
    def is_created(self) -> bool:
        return True

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
        resource = cls.create(resource_name, properties, account_id, region_name)
        resource.properties = properties  # what later updates compare against
        return resource

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
        properties = dict(cloudformation_json.get("Properties") or {})
        old: KeelModel = original_resource
        if cls.needs_replacement(old.properties, properties):
            # Replacement; a resource that keeps its name must go first to free the name.
            if new_resource_name == old.physical_id:
                old.remove()
                new = cls.create(new_resource_name, properties, account_id, region_name)
            else:
                new = cls.create(new_resource_name, properties, account_id, region_name)
                old.remove()
            new.properties = properties
            return new
        old.apply(properties)
        old.properties = properties
        return old  # type: ignore[return-value]

    @classmethod
    @override
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        # Only reached if a handle was never created; nothing to clean up then.
        return None

    def delete(self, account_id: str, region_name: str) -> None:  # noqa: ARG002 - moto's signature
        try:
            self.remove()
        except (TypeError, AttributeError) as error:
            # moto takes these two from `delete` as "no delete method" and silently skips the resource.
            raise RuntimeError(f"deleting {self.TYPE} {self.physical_id} failed: {error!r}") from error


# -- small helpers shared by the models ----------------------------------------------------------------
def as_bool(value: Any, default: bool = False) -> bool:
    """CloudFormation accepts booleans as JSON booleans or as the strings "true"/"false"."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _template_scalar(value: Any) -> str:
    # YAML reads an unquoted `Version: 2012-10-17` as a date; CloudFormation keeps the text (moto's IAM
    # models serialize it the same way).
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def as_json_text(document: Any) -> str:
    """Policy documents arrive as objects (or already as JSON text); services store JSON text."""
    return document if isinstance(document, str) else json.dumps(document, default=_template_scalar)


def tag_list(properties: Properties) -> list[dict[str, str]]:
    return [{"Key": str(tag["Key"]), "Value": str(tag["Value"])} for tag in properties.get("Tags") or []]


def tag_dict(properties: Properties) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list(properties)}
