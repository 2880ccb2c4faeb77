"""AWS::ApiGateway::Stage: the stage of a REST API, with its deployment, settings and tags.

moto has models for RestApi, Resource, Method and Deployment but skips Stage, so the CDK's API (a
Deployment plus a separate Stage) had no stage at all locally, and `Ref` to the stage resolved to None:
the CDK's `Endpoint` output read `https://{api}.execute-api.{region}.amazonaws.com/None/`. Ref is the
stage name, as in CloudFormation. moto's Deployment model has no physical id, so `Ref` to a deployment
(the stage's DeploymentId) gave the model object itself; it is the deployment id, as in CloudFormation.
"""

from __future__ import annotations

import contextlib
from typing import Any, Self

from moto.apigateway.exceptions import NotFoundException
from moto.apigateway.models import APIGatewayBackend, Deployment, apigateway_backends
from typing_extensions import override

from keel.local.cfn_models.base import KeelModel, Properties, as_bool, tag_dict
from keel.local.cfn_models.registry import register
from keel.local.extensions import Extension

# CloudFormation's MethodSetting → the API's methodSettings entry (keyed "resourcePath/httpMethod").
METHOD_SETTINGS = {
    "MetricsEnabled": "metricsEnabled",
    "LoggingLevel": "loggingLevel",
    "DataTraceEnabled": "dataTraceEnabled",
    "ThrottlingBurstLimit": "throttlingBurstLimit",
    "ThrottlingRateLimit": "throttlingRateLimit",
    "CachingEnabled": "cachingEnabled",
    "CacheTtlInSeconds": "cacheTtlInSeconds",
    "CacheDataEncrypted": "cacheDataEncrypted",
}


def method_settings(settings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    mapped = {}
    for setting in settings:
        # The API escapes "/" inside a resource path as "~1"; "/*" (every resource) is "*".
        path = str(setting.get("ResourcePath", "/*")).lstrip("/").replace("/", "~1") or "~1"
        mapped[f"{path}/{setting.get('HttpMethod', '*')}"] = {
            api: setting[cfn] for cfn, api in METHOD_SETTINGS.items() if cfn in setting
        }
    return mapped


class Stage(KeelModel):
    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"
    CREATE_ONLY = ("RestApiId", "StageName")

    def _backend(self) -> APIGatewayBackend:
        return apigateway_backends[self.account_id][self.region_name]

    @classmethod
    @override
    def create(cls, name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        apigateway_backends[account_id][region_name].create_stage(
            properties["RestApiId"], name, properties.get("DeploymentId", "")
        )
        handle = cls(account_id=account_id, region_name=region_name, physical_id=name, properties=properties)
        handle.apply(properties)
        return handle

    @override
    def apply(self, properties: Properties) -> None:
        stage = self._backend().get_stage(properties["RestApiId"], self.physical_id)
        stage.deployment_id = properties.get("DeploymentId")
        stage.description = properties.get("Description", "")
        stage.variables = dict(properties.get("Variables") or {})
        stage.tracing_enabled = as_bool(properties.get("TracingEnabled"))
        stage.cache_cluster_enabled = as_bool(properties.get("CacheClusterEnabled"))
        stage.cache_cluster_status = "AVAILABLE" if stage.cache_cluster_enabled else None
        stage.cache_cluster_size = properties.get("CacheClusterSize")
        stage.method_settings = method_settings(properties.get("MethodSettings") or [])
        access_log = properties.get("AccessLogSetting")
        stage.access_log_settings = (
            {"destinationArn": access_log.get("DestinationArn"), "format": access_log.get("Format")}
            if access_log
            else None
        )
        stage.tags = tag_dict(properties) or None

    @override
    def remove(self) -> None:
        with contextlib.suppress(NotFoundException):  # also: the API itself is already gone
            self._backend().delete_stage(self.properties["RestApiId"], self.physical_id)


def _deployment_id(self: Deployment) -> str:
    return str(self.id)


def install() -> None:
    register(Stage)
    Deployment.physical_resource_id = property(_deployment_id)  # type: ignore[attr-defined]


EXTENSION = Extension(
    name="cfn-apigateway-stage",
    kind="cfn-model",
    what="AWS::ApiGateway::Stage (deployment, description, variables, tracing, cache cluster, method "
    "settings, access log setting, tags; Ref = stage name); Ref to an AWS::ApiGateway::Deployment is its id",
    why="moto skips the type: the CDK's REST API had no stage locally and its Endpoint output ended "
    "in /None/; Ref to a deployment gave moto's model object (HTTP 500 on GetStage)",
    upstream=True,
    install=install,
)
