"""boto3 clients for the smoke check: the caller's own credentials, or a role assumed in the environment's
account (what the delivery pipeline does from the tooling account). One session serves every client: a
new boto3 session reloads botocore's endpoint and service data."""

from __future__ import annotations

from typing import Any

from keel.aws import session_for
from keel.config import EnvironmentConfig
from keel.delivery.smoke import ClientFactory


def client_factory(
    config: EnvironmentConfig, *, role_arn: str | None = None, endpoint_url: str | None = None
) -> ClientFactory:
    session, endpoint = session_for(config, endpoint_url=endpoint_url)
    if role_arn is not None:
        import boto3

        credentials = session.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn=role_arn, RoleSessionName=f"keel-smoke-check-{config.name}"
        )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=config.region,
        )

    def make(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint)

    return make
