"""An endpoint service for moto: SageMaker's blue/green deployment with guardrails, replayed.

moto implements models, endpoint configs and endpoints but not UpdateEndpoint. `SimulatedEndpointService`
sends everything else to moto (so DescribeEndpoint shows the truth afterwards) and replays an update as
SageMaker runs it: the new fleet takes each traffic step (canary, linear steps, or all at once) for a bake
period, its invocation metrics are put to CloudWatch, and the rollback alarms of the DeploymentConfig are
evaluated on them (the local CloudWatch evaluates them now: `keel.local.clock`). Any alarm in ALARM
returns all traffic to the old fleet (the endpoint keeps its old config); otherwise the endpoint moves to
the new config. Either way the `SageMaker Endpoint State Change` event SageMaker would send is appended to
`events`, for the caller to deliver to the deployer (moto's EventBridge does not invoke Lambda).

What the new fleet answers is up to `traffic(model package ARN)`: healthy by default; a test or the local
runner makes a version fail (5xx) or slow down to see the rollback.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from keel.local.clock import evaluate_alarms
from keel.serving.endpoint_service import SageMakerEndpointService
from keel.serving.names import VARIANT_NAME

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
BAKE_MINUTES = 3  # one-minute datapoints per traffic step: enough for Keel's "2 of 3 minutes" alarms


@dataclass(frozen=True)
class CanaryTraffic:
    """What the new fleet answers per minute of full traffic."""

    invocations: int = 100
    errors_5xx: int = 0
    latency_ms: float = 20.0


HEALTHY = CanaryTraffic()
FAILING = CanaryTraffic(invocations=100, errors_5xx=100, latency_ms=20.0)


@dataclass
class SimulatedDeployment:
    endpoint: str
    from_config: str
    to_config: str
    steps: list[int]
    outcome: str  # "succeeded" | "rolled-back"
    tripped: list[str] = field(default_factory=list)


def traffic_steps(routing: dict[str, Any]) -> list[int]:
    """Capacity percentages the new fleet serves, step by step."""
    kind = routing.get("Type", "ALL_AT_ONCE")
    if kind == "CANARY":
        return [int(routing["CanarySize"]["Value"]), 100]
    if kind == "LINEAR":
        step = int(routing["LinearStepSize"]["Value"])
        return [*range(step, 100, step), 100]
    return [100]


class SimulatedEndpointService(SageMakerEndpointService):
    def __init__(
        self,
        sagemaker: Any,
        autoscaling: Any,
        *,
        cloudwatch: Any,
        traffic: Callable[[str | None], CanaryTraffic] = lambda _package: HEALTHY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(sagemaker, autoscaling)
        self.cloudwatch, self.traffic, self.clock = cloudwatch, traffic, clock
        self.events: list[dict[str, Any]] = []
        self.deployments: list[SimulatedDeployment] = []

    def create_endpoint(self, name: str, config_name: str, tags: list[dict[str, str]]) -> None:
        super().create_endpoint(name, config_name, tags)
        self._emit(name)

    def update_endpoint(self, name: str, config_name: str, deployment_config: dict[str, Any]) -> None:
        current = self.describe_endpoint(name)
        if current is None or current.busy:
            raise ValueError(f"UpdateEndpoint: endpoint {name} is {current.status if current else 'absent'}")
        new_variants = self.sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        if [v["VariantName"] for v in new_variants["ProductionVariants"]] != [VARIANT_NAME]:
            raise ValueError("blue/green deployments require the same variant name in the new config")
        policy = deployment_config.get("BlueGreenUpdatePolicy", {})
        rollback = deployment_config.get("AutoRollbackConfiguration", {})
        alarms = [a["AlarmName"] for a in rollback.get("Alarms", [])]
        steps = traffic_steps(policy.get("TrafficRoutingConfiguration", {}))
        answers = self.traffic(self.serving_package(config_name))
        record = SimulatedDeployment(name, current.config_name, config_name, steps, "succeeded")
        self.deployments.append(record)
        for share in steps:
            now = self._serve(name, answers, share)
            states = evaluate_alarms(self.cloudwatch, alarms, at=now) if alarms else {}
            record.tripped = [a for a in alarms if states.get(a) == "ALARM"]
            if record.tripped:
                record.outcome = "rolled-back"
                self._emit(name)  # InService, still on the old config
                return
        tags = self.sagemaker.list_tags(ResourceArn=self._endpoint_arn(name)).get("Tags", [])
        self.sagemaker.delete_endpoint(EndpointName=name)
        super().create_endpoint(name, config_name, tags)
        self._emit(name)

    def _serve(self, name: str, answers: CanaryTraffic, share: int) -> datetime:
        """BAKE_MINUTES one-minute datapoints of the new fleet's share of traffic; returns the last time."""
        end = self.clock()
        dimensions = [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": VARIANT_NAME}]
        for minute in range(BAKE_MINUTES - 1, -1, -1):
            at = end - timedelta(minutes=minute)
            invocations = max(1, answers.invocations * share // 100)
            errors = answers.errors_5xx * share // 100
            common = {"Dimensions": dimensions, "Timestamp": at}
            self.cloudwatch.put_metric_data(
                Namespace=SAGEMAKER_NAMESPACE,
                MetricData=[
                    {"MetricName": "Invocations", "Value": invocations, **common},
                    {"MetricName": "Invocation5XXErrors", "Value": errors, **common},
                    {
                        "MetricName": "ModelLatency",
                        "Value": answers.latency_ms * 1000,
                        "Unit": "Microseconds",
                        **common,
                    },
                ],
            )
        return end

    def _endpoint_arn(self, name: str) -> str:
        return str(self.sagemaker.describe_endpoint(EndpointName=name)["EndpointArn"])

    def _emit(self, name: str) -> None:
        endpoint = self.sagemaker.describe_endpoint(EndpointName=name)
        arn = endpoint["EndpointArn"]
        _, _, _, region, account, _ = arn.split(":", 5)
        self.events.append(
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "SageMaker Endpoint State Change",
                "source": "aws.sagemaker",
                "account": account,
                "time": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": region,
                "resources": [arn],
                "detail": {
                    "EndpointName": name,
                    "EndpointArn": arn,
                    "EndpointConfigName": endpoint["EndpointConfigName"],
                    "EndpointStatus": "IN_SERVICE",
                },
            }
        )
