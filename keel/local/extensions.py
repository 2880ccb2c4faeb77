"""The registry of Keel's moto extensions: one line each of what, why and whether it belongs upstream.

Each extension module exposes `EXTENSION`; `load()` imports them (and so moto) on the server side only.
`python -m keel.local.extensions` prints the table that `keel/local/EXTENSIONS.md` embeds; a unit test
keeps the two in sync.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["cfn-model", "fix", "api"]

# Order matters only for readability of the table; install order is independent.
EXTENSION_MODULES: tuple[str, ...] = (
    "keel.local.cfn_models.s3_bucket",
    "keel.local.cfn_models.s3_bucket_policy",
    "keel.local.cfn_models.sns_topic_policy",
    "keel.local.cfn_models.sns_subscription",
    "keel.local.cfn_models.sqs_queue_policy",
    "keel.local.cfn_models.kms_key",
    "keel.local.cfn_models.logs_log_group",
    "keel.local.cfn_models.cloudwatch_alarm",
    "keel.local.cfn_models.glue",
    "keel.local.cfn_models.sagemaker",
    "keel.local.cfn_models.cloudtrail_trail",
    "keel.local.cfn_models.macie_session",
    "keel.local.cfn_models.apigateway_stage",
    "keel.local.cfn_models.custom_resource",
    "keel.local.cfn_models.cdk_metadata",
    "keel.local.patches.cfn_create_stack",
    "keel.local.patches.cfn_change_sets",
    "keel.local.patches.cfn_exports",
    "keel.local.patches.cfn_get_stack_output",
    "keel.local.patches.cfn_ssm_parameters",
    "keel.local.patches.cfn_stack_delete",
    "keel.local.patches.cfn_delete_order",
    "keel.local.patches.cfn_lazy_resources",
    "keel.local.patches.cfn_event_order",
    "keel.local.patches.cfn_resource_update",
    "keel.local.patches.cfn_template_url",
    "keel.local.patches.iam_managed_policy_delete",
    "keel.local.patches.s3_policy_conditions",
    "keel.local.patches.s3_eventbridge_notification",
    "keel.local.patches.s3_eventbridge_events",
    "keel.local.patches.cloudwatch_alarms",
    "keel.local.patches.cloudwatch_alarm_actions",
    "keel.local.patches.cloudwatch_alarm_evaluation",
    "keel.local.patches.events_lambda_targets",
    "keel.local.patches.events_default_input",
    "keel.local.patches.events_schedules",
    "keel.local.patches.sagemaker_model_package_group",
    "keel.local.patches.sagemaker_pipeline_executions",
    "keel.local.patches.sagemaker_model_packages",
    "keel.local.patches.macie_classification_jobs",
    "keel.local.patches.unimplemented_actions",
    "keel.local.patches.dynamodb_atomic_requests",
)


@dataclass(frozen=True)
class Extension:
    name: str
    kind: Kind
    what: str
    why: str
    upstream: bool
    install: Callable[[], None]

    def table_row(self) -> str:
        return (
            f"| `{self.name}` | {self.kind} | {self.what} | {self.why} | {'yes' if self.upstream else 'no'} |"
        )


TABLE_HEADER = "| extension | kind | what | why | upstream candidate |\n|---|---|---|---|---|"


def load() -> list[Extension]:
    """Import every extension module (this imports moto) and return their descriptions."""
    return [importlib.import_module(name).EXTENSION for name in EXTENSION_MODULES]


def install_all() -> list[Extension]:
    extensions = load()
    for extension in extensions:
        extension.install()
    return extensions


def markdown_table(extensions: list[Extension]) -> str:
    return "\n".join([TABLE_HEADER, *(extension.table_row() for extension in extensions)])


if __name__ == "__main__":
    print(markdown_table(load()))
