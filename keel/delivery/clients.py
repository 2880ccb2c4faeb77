"""boto3 clients for the smoke check: the caller's own credentials, or a role assumed in the environment's
account (what the delivery pipeline does from the tooling account)."""

from __future__ import annotations

from typing import Any

from keel.aws import client, session_for
from keel.config import EnvironmentConfig
from keel.delivery.smoke import ClientFactory


def client_factory(
    config: EnvironmentConfig, *, role_arn: str | None = None, endpoint_url: str | None = None
) -> ClientFactory:
    if role_arn is None:
        return lambda service: client(config, service, endpoint_url=endpoint_url)
    import boto3

    session, endpoint = session_for(config, endpoint_url=endpoint_url)
    credentials = session.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=role_arn, RoleSessionName=f"keel-smoke-check-{config.name}"
    )["Credentials"]
    assumed = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=config.region,
    )

    def make(service: str) -> Any:
        return assumed.client(service, endpoint_url=endpoint)

    return make
