"""AWS::Glue::{Database, Table, DataCatalogEncryptionSettings, SecurityConfiguration} via moto's Glue.

moto skips all four types. CloudFormation's property shapes equal the Glue API's, except that a security
configuration's `S3Encryptions` is the API's `S3Encryption`.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Self

from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import GlueBackend, glue_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension


def _backend(model: KeelModel) -> GlueBackend:
    return glue_backends[model.account_id][model.region_name]


class Database(KeelModel):
    TYPE = "AWS::Glue::Database"
    CREATE_ONLY = ("CatalogId", "DatabaseName")

    @staticmethod
    def _name(properties: Properties, default: str) -> str:
        return str(
            (properties.get("DatabaseInput") or {}).get("Name") or properties.get("DatabaseName") or default
        )

    @classmethod
    @override
    def needs_replacement(cls, old: Properties, new: Properties) -> bool:
        return super().needs_replacement(old, new) or cls._name(old, "") != cls._name(new, "")

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        db_name = cls._name(properties, name.lower())
        database_input = {"Name": db_name, **copy.deepcopy(properties.get("DatabaseInput") or {})}
        glue_backends[account_id][region_name].create_database(db_name, database_input)
        return cls(account_id=account_id, region_name=region_name, physical_id=db_name, properties=properties)

    @override
    def apply(self, properties: Properties) -> None:
        database_input = {"Name": self.physical_id, **copy.deepcopy(properties.get("DatabaseInput") or {})}
        _backend(self).update_database(self.physical_id, database_input)

    @override
    def remove(self) -> None:
        with contextlib.suppress(EntityNotFoundException):
            _backend(self).delete_database(self.physical_id)


class Table(KeelModel):
    TYPE = "AWS::Glue::Table"
    CREATE_ONLY = ("CatalogId", "DatabaseName", "Name")

    @staticmethod
    def _name(properties: Properties, default: str) -> str:
        return str((properties.get("TableInput") or {}).get("Name") or properties.get("Name") or default)

    @classmethod
    @override
    def needs_replacement(cls, old: Properties, new: Properties) -> bool:
        return super().needs_replacement(old, new) or cls._name(old, "") != cls._name(new, "")

    @staticmethod
    def _input(name: str, properties: Properties) -> dict[str, Any]:
        return {**copy.deepcopy(properties.get("TableInput") or {}), "Name": name}

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        table_name = cls._name(properties, name.lower())
        glue_backends[account_id][region_name].create_table(
            properties["DatabaseName"],
            table_name,
            cls._input(table_name, properties),
            open_table_format_input=properties.get("OpenTableFormatInput"),
        )
        return cls(
            account_id=account_id, region_name=region_name, physical_id=table_name, properties=properties
        )

    @override
    def apply(self, properties: Properties) -> None:
        _backend(self).update_table(
            properties["DatabaseName"], self.physical_id, self._input(self.physical_id, properties)
        )

    @override
    def remove(self) -> None:
        with contextlib.suppress(EntityNotFoundException):
            _backend(self).delete_table(self.properties["DatabaseName"], self.physical_id)


class DataCatalogEncryptionSettings(KeelModel):
    TYPE = "AWS::Glue::DataCatalogEncryptionSettings"
    CREATE_ONLY = ("CatalogId",)

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        catalog_id = str(properties.get("CatalogId") or account_id)
        settings = cls(account_id=account_id, region_name=region_name, physical_id=catalog_id, properties={})
        settings.apply(properties)
        return settings

    @override
    def apply(self, properties: Properties) -> None:
        settings = copy.deepcopy(properties.get("DataCatalogEncryptionSettings") or {})
        _backend(self).put_data_catalog_encryption_settings(self.physical_id, settings)

    @override
    def remove(self) -> None:
        # Deleting the resource leaves the catalog unencrypted, as in CloudFormation.
        _backend(self).put_data_catalog_encryption_settings(self.physical_id, {})


class SecurityConfiguration(KeelModel):
    TYPE = "AWS::Glue::SecurityConfiguration"
    NAME_PROPERTY = "Name"
    CREATE_ONLY = ("Name", "EncryptionConfiguration")  # every property is create-only in CloudFormation

    @staticmethod
    def encryption_configuration(properties: Properties) -> dict[str, Any]:
        cfn = copy.deepcopy(properties.get("EncryptionConfiguration") or {})
        if "S3Encryptions" in cfn:
            cfn["S3Encryption"] = cfn.pop("S3Encryptions")
        return cfn

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        glue_backends[account_id][region_name].create_security_configuration(
            name, cls.encryption_configuration(properties)
        )
        return cls(account_id=account_id, region_name=region_name, physical_id=name, properties=properties)

    @override
    def apply(self, properties: Properties) -> None:
        return None  # unreachable: all properties are create-only

    @override
    def remove(self) -> None:
        with contextlib.suppress(EntityNotFoundException):
            _backend(self).delete_security_configuration(self.physical_id)


def install() -> None:
    register(Database, Table, DataCatalogEncryptionSettings, SecurityConfiguration)


EXTENSION = Extension(
    name="cfn-glue",
    kind="cfn-model",
    what="AWS::Glue::Database, Table (updates add table versions), DataCatalogEncryptionSettings, "
    "SecurityConfiguration",
    why="moto skips all four types: no catalog, no schema, no catalog encryption locally",
    upstream=True,
    install=install,
)
