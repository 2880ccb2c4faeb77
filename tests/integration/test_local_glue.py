"""AWS::Glue::{Database, Table, DataCatalogEncryptionSettings, SecurityConfiguration} on the local
server, checked through the Glue API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.local import cfn_deploy

pytestmark = pytest.mark.integration

COLUMNS = [{"Name": "fixed_acidity", "Type": "double"}, {"Name": "quality", "Type": "int"}]


def _template(database: str, *, columns: list[dict[str, str]], key_ref: str) -> dict[str, Any]:
    return {
        "Resources": {
            "KeyA": {"Type": "AWS::KMS::Key", "Properties": {}},
            "KeyB": {"Type": "AWS::KMS::Key", "Properties": {}},
            "Database": {
                "Type": "AWS::Glue::Database",
                "Properties": {
                    "CatalogId": {"Ref": "AWS::AccountId"},
                    "DatabaseInput": {
                        "Name": database,
                        "Description": f"Keel catalog ({key_ref})",
                        "LocationUri": "s3://raw/",
                    },
                },
            },
            "Table": {
                "Type": "AWS::Glue::Table",
                "Properties": {
                    "CatalogId": {"Ref": "AWS::AccountId"},
                    "DatabaseName": {"Ref": "Database"},
                    "TableInput": {
                        "Name": "wine_quality_raw",
                        "TableType": "EXTERNAL_TABLE",
                        "Parameters": {"classification": "csv"},
                        "PartitionKeys": [{"Name": "ingest_date", "Type": "string"}],
                        "StorageDescriptor": {
                            "Columns": columns,
                            "Location": "s3://raw/wine-quality/",
                            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                            "SerdeInfo": {
                                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                                "Parameters": {"field.delim": ","},
                            },
                        },
                    },
                },
            },
            "CatalogEncryption": {
                "Type": "AWS::Glue::DataCatalogEncryptionSettings",
                "Properties": {
                    "CatalogId": {"Ref": "AWS::AccountId"},
                    "DataCatalogEncryptionSettings": {
                        "EncryptionAtRest": {
                            "CatalogEncryptionMode": "SSE-KMS",
                            "SseAwsKmsKeyId": {"Ref": key_ref},
                        },
                        "ConnectionPasswordEncryption": {
                            "ReturnConnectionPasswordEncrypted": True,
                            "KmsKeyId": {"Ref": key_ref},
                        },
                    },
                },
            },
            "SecurityConfiguration": {
                "Type": "AWS::Glue::SecurityConfiguration",
                "Properties": {
                    "Name": f"{database}-security",
                    "EncryptionConfiguration": {
                        "S3Encryptions": [
                            {"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": {"Fn::GetAtt": [key_ref, "Arn"]}}
                        ],
                        "CloudWatchEncryption": {
                            "CloudWatchEncryptionMode": "SSE-KMS",
                            "KmsKeyArn": {"Fn::GetAtt": [key_ref, "Arn"]},
                        },
                        "JobBookmarksEncryption": {
                            "JobBookmarksEncryptionMode": "CSE-KMS",
                            "KmsKeyArn": {"Fn::GetAtt": [key_ref, "Arn"]},
                        },
                    },
                },
            },
        },
        "Outputs": {
            "Table": {"Value": {"Ref": "Table"}},
            "KeyA": {"Value": {"Ref": "KeyA"}},
            "KeyB": {"Value": {"Ref": "KeyB"}},
            "KeyBArn": {"Value": {"Fn::GetAtt": ["KeyB", "Arn"]}},
        },
    }


def test_catalog_table_encryption_and_security_configuration(moto_server: Any) -> None:
    cfn, glue = moto_server.client("cloudformation"), moto_server.client("glue")
    database, stack = f"keel_test_{uuid.uuid4().hex[:8]}", f"glue-{uuid.uuid4().hex[:8]}"
    security = f"{database}-security"

    outputs = cfn_deploy.outputs(
        cfn_deploy.deploy(cfn, stack, _template(database, columns=COLUMNS, key_ref="KeyA"))
    )
    assert outputs["Table"] == "wine_quality_raw"
    assert glue.get_database(Name=database)["Database"]["LocationUri"] == "s3://raw/"
    table = glue.get_table(DatabaseName=database, Name="wine_quality_raw")["Table"]
    assert table["StorageDescriptor"]["Columns"] == COLUMNS
    assert table["PartitionKeys"] == [{"Name": "ingest_date", "Type": "string"}]
    assert table["Parameters"] == {"classification": "csv"}
    settings = glue.get_data_catalog_encryption_settings()["DataCatalogEncryptionSettings"]
    assert settings["EncryptionAtRest"] == {
        "CatalogEncryptionMode": "SSE-KMS",
        "SseAwsKmsKeyId": outputs["KeyA"],
    }
    assert settings["ConnectionPasswordEncryption"]["ReturnConnectionPasswordEncrypted"] is True
    config = glue.get_security_configuration(Name=security)["SecurityConfiguration"][
        "EncryptionConfiguration"
    ]
    assert config["S3Encryption"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert config["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"

    more_columns = [*COLUMNS, {"Name": "alcohol", "Type": "double"}]
    cfn_deploy.deploy(cfn, stack, _template(database, columns=more_columns, key_ref="KeyB"))
    assert glue.get_database(Name=database)["Database"]["Description"] == "Keel catalog (KeyB)"
    table = glue.get_table(DatabaseName=database, Name="wine_quality_raw")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == [
        "fixed_acidity",
        "quality",
        "alcohol",
    ]
    versions = glue.get_table_versions(DatabaseName=database, TableName="wine_quality_raw")["TableVersions"]
    assert len(versions) == 2  # an update adds a table version, as in Glue
    settings = glue.get_data_catalog_encryption_settings()["DataCatalogEncryptionSettings"]
    assert settings["EncryptionAtRest"]["SseAwsKmsKeyId"] == outputs["KeyB"]
    config = glue.get_security_configuration(Name=security)["SecurityConfiguration"][
        "EncryptionConfiguration"
    ]
    assert config["S3Encryption"][0]["KmsKeyArn"] == outputs["KeyBArn"]  # replaced (all create-only)

    cfn_deploy.delete(cfn, stack)
    with pytest.raises(ClientError, match="EntityNotFound"):
        glue.get_database(Name=database)
    with pytest.raises(ClientError, match="EntityNotFound"):
        glue.get_security_configuration(Name=security)
    at_rest = glue.get_data_catalog_encryption_settings()["DataCatalogEncryptionSettings"]["EncryptionAtRest"]
    assert at_rest["CatalogEncryptionMode"] == "DISABLED"
