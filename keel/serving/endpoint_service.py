"""The endpoint operations the deployer needs, behind a small interface.

`SageMakerEndpointService` calls SageMaker and Application Auto Scaling, on clients made with standard
retries (`keel.serving.runtime.RETRIES`): throttles and 5xx answers are retried by botocore. moto implements
everything here except UpdateEndpoint, so tests and the scenario use
`keel.scenario.simulated_endpoints.SimulatedEndpointService` (outside the product package), which replays
SageMaker's blue/green semantics (including the automatic rollback) on top of moto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

# DescribeEndpoint statuses during which an UpdateEndpoint is refused.
BUSY_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


@dataclass(frozen=True)
class EndpointState:
    name: str
    status: str  # DescribeEndpoint EndpointStatus: InService, Updating, RollingBack, Failed, ...
    config_name: str
    failure_reason: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None

    @property
    def busy(self) -> bool:
        return self.status in BUSY_STATUSES


class EndpointService(Protocol):
    def describe_endpoint(self, name: str) -> EndpointState | None: ...

    def serving_package(self, config_name: str) -> str | None:
        """The model package version an endpoint config serves (None if not one of Keel's)."""
        ...

    def create_model(self, request: dict[str, Any]) -> None: ...

    def create_endpoint_config(self, request: dict[str, Any]) -> None: ...

    def create_endpoint(self, name: str, config_name: str, tags: list[dict[str, str]]) -> None: ...

    def update_endpoint(self, name: str, config_name: str, deployment_config: dict[str, Any]) -> None: ...

    def configure_autoscaling(self, target: dict[str, Any], policy: dict[str, Any]) -> None: ...

    def remove_autoscaling(self, target: dict[str, Any], policy_name: str) -> None: ...


def _not_found(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    return details.get("Code") == "ValidationException" and "Could not find" in str(details.get("Message"))


def _refused(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ValidationException"


class SageMakerEndpointService:
    def __init__(self, sagemaker: Any, autoscaling: Any) -> None:
        self.sagemaker, self.autoscaling = sagemaker, autoscaling

    def describe_endpoint(self, name: str) -> EndpointState | None:
        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if _not_found(error):
                return None
            raise
        variants = endpoint.get("ProductionVariants") or [{}]
        instance_type = None
        try:
            config_name = endpoint["EndpointConfigName"]
            config = self.sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
            instance_type = (config.get("ProductionVariants") or [{}])[0].get("InstanceType")
        except ClientError as error:
            if not _not_found(error):
                raise
        return EndpointState(
            name=name,
            status=endpoint["EndpointStatus"],
            config_name=endpoint["EndpointConfigName"],
            failure_reason=endpoint.get("FailureReason"),
            instance_type=instance_type,
            instance_count=variants[0].get("CurrentInstanceCount"),
        )

    def serving_package(self, config_name: str) -> str | None:
        try:
            config = self.sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
            model_name = config["ProductionVariants"][0]["ModelName"]
            model = self.sagemaker.describe_model(ModelName=model_name)
        except ClientError as error:
            if _not_found(error):
                return None
            raise
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        package = container.get("ModelPackageName")
        return str(package) if package else None

    def create_model(self, request: dict[str, Any]) -> None:
        self.sagemaker.create_model(**request)

    def create_endpoint_config(self, request: dict[str, Any]) -> None:
        self.sagemaker.create_endpoint_config(**request)

    def create_endpoint(self, name: str, config_name: str, tags: list[dict[str, str]]) -> None:
        try:
            self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=tags)
        except ClientError as error:
            if not (_refused(error) and self._already_requested(name, config_name)):
                raise

    def update_endpoint(self, name: str, config_name: str, deployment_config: dict[str, Any]) -> None:
        try:
            self.sagemaker.update_endpoint(
                EndpointName=name, EndpointConfigName=config_name, DeploymentConfig=deployment_config
            )
        except ClientError as error:
            if not (_refused(error) and self._already_requested(name, config_name)):
                raise

    def _already_requested(self, name: str, config_name: str) -> bool:
        """Whether the endpoint already runs on, or moves to, this config (names are unique per deployment).

        A 5xx whose request did reach SageMaker is retried by botocore, and SageMaker refuses the repeat
        with a ValidationException (the endpoint exists / is being updated): the first attempt is the one in
        effect. Any other refusal stands."""
        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if _not_found(error):
                return False
            raise
        pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        return config_name in (endpoint.get("EndpointConfigName"), pending)

    def configure_autoscaling(self, target: dict[str, Any], policy: dict[str, Any]) -> None:
        """Register the variant and (re)attach the target-tracking policy; both calls are upserts."""
        self.autoscaling.register_scalable_target(**target)
        self.autoscaling.put_scaling_policy(**policy)

    def remove_autoscaling(self, target: dict[str, Any], policy_name: str) -> None:
        keys = {k: target[k] for k in ("ServiceNamespace", "ResourceId", "ScalableDimension")}
        for call in (
            lambda: self.autoscaling.delete_scaling_policy(PolicyName=policy_name, **keys),
            lambda: self.autoscaling.deregister_scalable_target(**keys),
        ):
            try:
                call()
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ObjectNotFoundException":
                    raise
