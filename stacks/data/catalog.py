"""The Glue Data Catalog: database, tables generated from the dataset contract, catalog encryption."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract, glue_columns, glue_partition_keys
from keel.naming import (
    BucketPurpose,
    glue_database_name,
    glue_security_configuration_name,
    glue_table_name,
)

_TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
_TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
_LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"


def csv_table_input(
    contract: DatasetContract, *, name: str, location: str, description: str
) -> glue.CfnTable.TableInputProperty:
    """A Glue table over the contract's CSV files; columns and partitions come from the contract only."""
    return glue.CfnTable.TableInputProperty(
        name=name,
        description=description[:2048],
        table_type="EXTERNAL_TABLE",
        parameters={
            "classification": "csv",
            "skip.header.line.count": "1" if contract.format.header else "0",
            "has_encrypted_data": "true",
            "keel:contract": contract.name,
            "keel:contract_version": contract.version,
            "keel:target": contract.target,
        },
        partition_keys=[glue.CfnTable.ColumnProperty(**key) for key in glue_partition_keys(contract)],
        storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
            location=location,
            input_format=_TEXT_INPUT,
            output_format=_TEXT_OUTPUT,
            compressed=False,
            columns=[glue.CfnTable.ColumnProperty(**column) for column in glue_columns(contract)],
            serde_info=glue.CfnTable.SerdeInfoProperty(
                serialization_library=_LAZY_SIMPLE_SERDE,
                parameters={
                    "field.delim": contract.format.delimiter,
                    "serialization.format": contract.format.delimiter,
                },
            ),
        ),
    )


class DataCatalog(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        contracts: list[DatasetContract],
        buckets: dict[BucketPurpose, s3.IBucket],
        data_key: kms.IKey,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        self.database_name = glue_database_name(config)
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description=f"Keel {config.name} datasets (from contracts/)"
            ),
        )
        self.tables: dict[str, glue.CfnTable] = {}
        for contract in contracts:
            for layer, prefix in (
                (BucketPurpose.RAW, contract.landing_prefix),
                (BucketPurpose.CURATED, f"{contract.name}/"),
            ):
                name = glue_table_name(contract.name, layer)
                table = glue.CfnTable(
                    self,
                    f"{contract.name}-{layer.value}",
                    catalog_id=account,
                    database_name=self.database_name,
                    table_input=csv_table_input(
                        contract,
                        name=name,
                        location=f"s3://{buckets[layer].bucket_name}/{prefix}",
                        description=f"{layer.value} layer of {contract.name} v{contract.version}: "
                        f"{contract.description}",
                    ),
                )
                table.add_resource_dependency(self.database)
                self.tables[name] = table
        # Encryption of the catalog itself is an account-and-region setting.
        self.encryption_settings = glue.CfnDataCatalogEncryptionSettings(
            self,
            "CatalogEncryption",
            catalog_id=account,
            data_catalog_encryption_settings=glue.CfnDataCatalogEncryptionSettings.DataCatalogEncryptionSettingsProperty(
                encryption_at_rest=glue.CfnDataCatalogEncryptionSettings.EncryptionAtRestProperty(
                    catalog_encryption_mode="SSE-KMS", sse_aws_kms_key_id=data_key.key_arn
                ),
                connection_password_encryption=glue.CfnDataCatalogEncryptionSettings.ConnectionPasswordEncryptionProperty(
                    return_connection_password_encrypted=True, kms_key_id=data_key.key_arn
                ),
            ),
        )
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=glue_security_configuration_name(config),
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=data_key.key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=logs_key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=data_key.key_arn
                ),
            ),
        )
