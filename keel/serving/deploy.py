"""Deploy approved model versions: create or blue/green-update the endpoint, then settle the outcome.

Two events drive it. An approval (`SageMaker Model Package State Change`, Approved, Keel's group) creates a
model and an endpoint config, then creates the endpoint or updates it with deployment guardrails (canary or
linear traffic shifting; the rollback alarms return traffic to the old fleet). The endpoint's next
`SageMaker Endpoint State Change` settles it: InService on the new config is a success, InService on the old
config a rollback, Failed a failure. Each step is a deployment record in the lineage of both versions.

One deployment at a time: an approval that arrives while one is in progress is queued (the latest wins) and
deployed when the endpoint settles. Re-delivered events are harmless: an approval of the version already
served, or a state change with no deployment in progress, is ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from keel.serving.endpoint_service import EndpointService, EndpointState
from keel.serving.model_package import (
    APPROVAL_DETAIL_TYPE,
    APPROVED,
    Approval,
    EventError,
    ModelRegistry,
    ModelVersion,
    parse_approval,
    version_of,
)
from keel.serving.records import (
    DeploymentEvent,
    DeploymentRecord,
    DeploymentStore,
    ModelRef,
    PendingDeployment,
)
from keel.serving.requests import (
    ServingTargets,
    deployment_config,
    endpoint_config_request,
    model_request,
    resource_name,
    scalable_target_request,
    scaling_policy_request,
)
from keel.serving.settings import ServingSettings

ENDPOINT_STATE_DETAIL_TYPE = "SageMaker Endpoint State Change"


class DeploymentError(RuntimeError):
    """The deployment cannot go ahead; the message says what to fix. Raised, so the event is retried and
    finally kept in the function's dead-letter queue, and the function's error alarm fires."""


class AlarmStates(Protocol):
    def states(self, names: Sequence[str]) -> dict[str, str]:
        """name -> StateValue of the alarms that exist."""
        ...


class CloudWatchAlarmStates:
    def __init__(self, cloudwatch: Any) -> None:
        self.cloudwatch = cloudwatch

    def states(self, names: Sequence[str]) -> dict[str, str]:
        if not names:
            return {}
        alarms = self.cloudwatch.describe_alarms(AlarmNames=list(names), AlarmTypes=["MetricAlarm"])
        return {a["AlarmName"]: a["StateValue"] for a in alarms.get("MetricAlarms", [])}


@dataclass(frozen=True)
class DeployerConfig:
    group_name: str
    targets: ServingTargets
    settings: ServingSettings
    baseline_prefix: str  # s3://<artifacts>/pipeline/<pipeline>/ ; + <execution id>/baseline


@dataclass
class Deployer:
    config: DeployerConfig
    endpoints: EndpointService
    registry: ModelRegistry
    store: DeploymentStore
    alarms: AlarmStates
    clock: Callable[[], datetime]
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        kind = event.get("detail-type")
        if kind == APPROVAL_DETAIL_TYPE:
            return self.on_approval(event)
        if kind == ENDPOINT_STATE_DETAIL_TYPE:
            return self.on_endpoint_state(event)
        return {"status": "ignored", "reason": f"unexpected detail-type {kind!r}"}

    # --- approval -> deployment ---

    def on_approval(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            approval = parse_approval(event, self.config.group_name)
        except EventError as error:
            return {"status": "ignored", "reason": str(error)}
        version = self.registry.describe(approval.package_arn)
        if version.approval_status != APPROVED:
            reason = f"version {version.version} is now {version.approval_status}"
            return {"status": "ignored", "reason": reason}
        targets = self.config.targets
        state = self.endpoints.describe_endpoint(targets.endpoint_name)
        pending = self.store.pending(targets.endpoint_name)
        if pending is not None or (state is not None and state.busy):
            return self._queue(event, approval, version, state, pending)
        current = self.endpoints.serving_package(state.config_name) if state else None
        if current == approval.package_arn:
            return {"status": "ignored", "reason": f"version {version.version} is already serving"}
        if state is not None and state.status == "Failed":
            raise DeploymentError(
                f"endpoint {targets.endpoint_name} is Failed ({state.failure_reason}): delete it, and the "
                "next approval creates it again"
            )
        return self._deploy(approval, version, state, current)

    def _deploy(
        self, approval: Approval, version: ModelVersion, state: EndpointState | None, current: str | None
    ) -> dict[str, Any]:
        targets, settings = self.config.targets, self.config.settings
        now = self.clock()
        name = resource_name(targets, version.version, now)
        new = self._ref(version, endpoint_config=name, model_name=name)
        previous = (
            ModelRef(package_arn=current, version=version_of(current), endpoint_config=state.config_name)
            if current and state
            else None
        )
        self.endpoints.create_model(
            model_request(targets, name=name, package_arn=version.package_arn, version=version.version)
        )
        count = max(settings.initial_instance_count, state.instance_count or 0) if state else None
        config_request = endpoint_config_request(
            targets,
            settings,
            name=name,
            model_name=name,
            package_arn=version.package_arn,
            version=version.version,
            instance_count=count,
        )
        self.endpoints.create_endpoint_config(config_request)
        strategy: dict[str, Any]
        if state is None:
            strategy = {"Type": "CreateEndpoint"}
        else:
            missing = set(targets.rollback_alarms) - set(self.alarms.states(targets.rollback_alarms))
            if missing:
                raise DeploymentError(
                    f"rollback alarm(s) {', '.join(sorted(missing))} do not exist: deploy the monitoring "
                    "stack before updating the endpoint"
                )
            strategy = deployment_config(settings, targets.rollback_alarms)
        pending = PendingDeployment(
            deployment_id=self.new_id(),
            started=now.isoformat(),
            new=new,
            previous=previous,
            strategy=strategy,
            data_capture=self._capture(config_request),
            approval=self._approval(approval, version),
        )
        self.store.set_pending(targets.endpoint_name, pending)
        try:
            if state is None:
                tags = config_request["Tags"]
                self.endpoints.create_endpoint(targets.endpoint_name, name, tags)
            else:
                if settings.autoscaling and state.instance_type not in (None, settings.instance_type):
                    # Auto Scaling refuses an update that changes a scaled variant's instance type.
                    self._remove_autoscaling()
                self.endpoints.update_endpoint(targets.endpoint_name, name, strategy)
        except ClientError as error:  # refused, denied, or still failing after botocore's retries
            self.store.set_pending(targets.endpoint_name, None)
            details = error.response.get("Error", {})
            raise DeploymentError(
                f"{error.operation_name} of {targets.endpoint_name} with version {version.version} failed: "
                f"{details.get('Code')}: {details.get('Message')}"
            ) from error
        except Exception:
            self.store.set_pending(targets.endpoint_name, None)
            raise
        detail = (
            f"creating endpoint {targets.endpoint_name} with version {version.version}"
            if state is None
            else f"blue/green update from version {previous.version if previous else '?'} to "
            f"{version.version} ({settings.traffic_shifting})"
        )
        uris = self._record("deployment-started", pending, serving=previous, detail=detail)
        return {"status": "started", "deployment_id": pending.deployment_id, "records": uris}

    def _queue(
        self,
        event: dict[str, Any],
        approval: Approval,
        version: ModelVersion,
        state: EndpointState | None,
        pending: PendingDeployment | None,
    ) -> dict[str, Any]:
        targets = self.config.targets
        replaced = self.store.queued(targets.endpoint_name)
        self.store.set_queued(targets.endpoint_name, event)
        waiting_for = pending.new if pending else None
        record = PendingDeployment(
            deployment_id=self.new_id(),
            started=self.clock().isoformat(),
            new=self._ref(version),
            previous=waiting_for,
            strategy={},
            data_capture={},
            approval=self._approval(approval, version),
        )
        status = state.status if state else "absent"
        detail = f"endpoint is {status} with a deployment in progress; version {version.version} waits for it"
        if replaced:
            detail += " (replacing an older queued approval)"
        uris = self._record("deployment-queued", record, serving=None, detail=detail)
        return {"status": "queued", "records": uris}

    # --- endpoint state change -> outcome ---

    def on_endpoint_state(self, event: dict[str, Any]) -> dict[str, Any]:
        targets = self.config.targets
        detail = event.get("detail") or {}
        if detail.get("EndpointName") != targets.endpoint_name:
            return {"status": "ignored", "reason": f"not Keel's endpoint: {detail.get('EndpointName')!r}"}
        pending = self.store.pending(targets.endpoint_name)
        if pending is None:
            return {"status": "ignored", "reason": "no deployment in progress"}
        state = self.endpoints.describe_endpoint(targets.endpoint_name)
        if state is not None and state.busy:
            return {"status": "ignored", "reason": f"endpoint is still {state.status}"}
        alarm_states = self.alarms.states(targets.rollback_alarms)
        tripped = sorted(name for name, value in alarm_states.items() if value == "ALARM")
        outcome: DeploymentEvent
        serving: ModelRef | None
        in_service = state is not None and state.status == "InService"
        if in_service and state is not None and state.config_name == pending.new.endpoint_config:
            outcome, serving = "deployment-succeeded", pending.new
            text = f"version {pending.new.version} serves all traffic"
        elif in_service and state is not None:
            outcome, serving = "deployment-rolled-back", pending.previous
            restored = pending.previous.version if pending.previous else state.config_name
            alarms = ", ".join(tripped)
            why = f"rollback alarm(s) {alarms} in ALARM" if tripped else "the update did not complete"
            text = f"version {pending.new.version} rolled back, traffic returned to version {restored}: {why}"
            if state.failure_reason:
                text += f" ({state.failure_reason})"
        else:
            outcome, serving = "deployment-failed", None
            status = state.status if state else "deleted"
            reason = state.failure_reason if state else None
            text = f"endpoint is {status}" + (f": {reason}" if reason else "")
        # Autoscaling first: if it fails, the event is retried with the deployment still pending.
        if in_service and self.config.settings.autoscaling:
            self.endpoints.configure_autoscaling(*self._scaling())
        uris = self._record(outcome, pending, serving=serving, detail=text, alarm_states=alarm_states)
        self.store.set_pending(targets.endpoint_name, None)
        result: dict[str, Any] = {"status": outcome.removeprefix("deployment-"), "records": uris}
        queued = self.store.queued(targets.endpoint_name)
        if queued is not None:
            self.store.set_queued(targets.endpoint_name, None)
            result["next"] = self.on_approval(queued)
        return result

    # --- helpers ---

    def _ref(self, version: ModelVersion, **names: str) -> ModelRef:
        execution = version.execution_id
        baseline = f"{self.config.baseline_prefix}{execution}/baseline" if execution else None
        return ModelRef(
            package_arn=version.package_arn, version=version.version, baseline_uri=baseline, **names
        )

    def _approval(self, approval: Approval, version: ModelVersion) -> dict[str, Any]:
        return {
            "event_id": approval.event_id,
            "time": approval.time,
            "approved_by": version.approved_by,
            "description": version.approval_description,
        }

    def _capture(self, config_request: dict[str, Any]) -> dict[str, Any]:
        capture = config_request.get("DataCaptureConfig")
        if not capture:
            return {"enabled": False, "reason": "serverless endpoints do not support data capture"}
        return {
            "enabled": True,
            "destination": capture["DestinationS3Uri"],
            "sampling_percent": capture["InitialSamplingPercentage"],
            "kms_key_id": capture["KmsKeyId"],
        }

    def _scaling(self) -> tuple[dict[str, Any], dict[str, Any]]:
        name, settings = self.config.targets.endpoint_name, self.config.settings
        return scalable_target_request(name, settings), scaling_policy_request(name, settings)

    def _remove_autoscaling(self) -> None:
        target, policy = self._scaling()
        self.endpoints.remove_autoscaling(target, policy["PolicyName"])

    def _record(
        self,
        event: DeploymentEvent,
        pending: PendingDeployment,
        *,
        serving: ModelRef | None,
        detail: str,
        alarm_states: dict[str, str] | None = None,
    ) -> list[str]:
        targets = self.config.targets
        record = DeploymentRecord(
            event=event,
            time=self.clock().isoformat(),
            environment=targets.environment,
            endpoint_name=targets.endpoint_name,
            deployment_id=pending.deployment_id,
            new=pending.new,
            previous=pending.previous,
            serving=serving,
            strategy=pending.strategy,
            rollback_alarms=list(targets.rollback_alarms),
            alarm_states=alarm_states or {},
            data_capture=pending.data_capture,
            approval=pending.approval,
            detail=detail,
        )
        return self.store.write(record)
