"""The deployed local platform as the scenario drives it: service clients of the local AWS, Keel's Lambda
functions invoked in-process (the policy gate and the deployer with the parts moto cannot serve replaced),
the simulated endpoint service, the endpoint answering requests, and an on-call inbox on the alert topic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.aws import client
from keel.config import EnvironmentConfig
from keel.gate.settings import GovernanceSettings
from keel.scenario.endpoint import LocalEndpoint
from keel.scenario.lambdas import LocalLambdas
from keel.scenario.simulated_endpoints import SimulatedEndpointService

INBOX_QUEUE = "keel-local-scenario-inbox"


@dataclass
class Clients:
    s3: Any
    sagemaker: Any
    kms: Any
    sns: Any
    sqs: Any
    cloudwatch: Any
    autoscaling: Any
    lambda_: Any
    events: Any

    @classmethod
    def of(cls, config: EnvironmentConfig, endpoint_url: str) -> Clients:
        def make(service: str) -> Any:
            return client(config, service, endpoint_url=endpoint_url)

        return cls(
            s3=make("s3"),
            sagemaker=make("sagemaker"),
            kms=make("kms"),
            sns=make("sns"),
            sqs=make("sqs"),
            cloudwatch=make("cloudwatch"),
            autoscaling=make("application-autoscaling"),
            lambda_=make("lambda"),
            events=make("events"),
        )


@dataclass
class AlertInbox:
    """An SQS queue subscribed to Keel's alert topic: what the on-call engineer would receive by e-mail."""

    sqs: Any
    queue_url: str
    received: list[dict[str, Any]]

    @classmethod
    def subscribe(cls, clients: Clients, topic_arn: str) -> AlertInbox:
        url = clients.sqs.create_queue(QueueName=INBOX_QUEUE)["QueueUrl"]
        arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        clients.sqs.purge_queue(QueueUrl=url)
        subscribed = clients.sns.list_subscriptions_by_topic(TopicArn=topic_arn).get("Subscriptions", [])
        if not any(s.get("Endpoint") == arn for s in subscribed):
            clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        return cls(sqs=clients.sqs, queue_url=url, received=[])

    def collect(self) -> list[dict[str, Any]]:
        """Alerts delivered since the last call (subject, message, time)."""
        new: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            for message in messages:
                body = json.loads(message["Body"])
                new.append(
                    {
                        "subject": body.get("Subject") or "",
                        "message": body.get("Message", ""),
                        "received": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                )
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        self.received.extend(new)
        return new


@dataclass
class LocalPlatform:
    config: EnvironmentConfig
    clients: Clients
    lambdas: LocalLambdas
    endpoints: SimulatedEndpointService
    endpoint: LocalEndpoint
    inbox: AlertInbox

    @classmethod
    def connect(cls, config: EnvironmentConfig, endpoint_url: str, log_dir: Path) -> LocalPlatform:
        clients = Clients.of(config, endpoint_url)
        return cls(
            config=config,
            clients=clients,
            lambdas=LocalLambdas(config, clients.lambda_, endpoint_url, log_dir),
            endpoints=SimulatedEndpointService(
                clients.sagemaker, clients.autoscaling, cloudwatch=clients.cloudwatch
            ),
            endpoint=LocalEndpoint(config, clients.sagemaker, clients.s3),
            inbox=AlertInbox.subscribe(clients, GovernanceSettings.from_config(config).alert_topic_arn),
        )

    def use_local_lookups_in_the_gate(self) -> None:
        """The gate's handler with the two lookups moto cannot serve replaced, as its `build_runtime` allows:
        open findings from Keel's quarantine records (no Macie ListFindings), the approver from the event
        (no CloudTrail LookupEvents)."""

        def setup(module: Any) -> None:
            from keel.gate.approvals import NoApprovalLookup
            from keel.gate.findings import QuarantineFindingsSource

            settings = GovernanceSettings.from_config(self.config)
            findings = QuarantineFindingsSource(self.clients.s3, settings.evidence_bucket)
            module._runtime = module.build_runtime(findings=findings, approvals=NoApprovalLookup())

        self.lambdas.prepare("policy_gate", setup)

    def use_simulated_endpoints_in_the_deployer(self) -> None:
        """The deployer's handler over the simulated endpoint service (moto has no UpdateEndpoint): the
        deployer is built from the function's deployed settings, only its endpoint service replaced."""

        def setup(module: Any) -> None:
            from keel.serving.runtime import DeployerSettings, build_deployer

            clients = self.clients
            module._deployer[:] = [
                build_deployer(
                    DeployerSettings.from_environ(),
                    sagemaker=clients.sagemaker,
                    s3=clients.s3,
                    cloudwatch=clients.cloudwatch,
                    endpoints=self.endpoints,
                )
            ]

        self.lambdas.prepare("model_deployer", setup)

    def close(self) -> None:
        self.lambdas.close()
