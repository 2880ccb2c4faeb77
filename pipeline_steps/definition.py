"""The training pipeline's definition, built offline with the SageMaker SDK v3 (`sagemaker.mlops.workflow`).

Validate (sharded) → CombineValidation → Preprocess → Train → Evaluate → Drift →
Condition (validation passed and accuracy ≥ threshold) → Register (PendingManualApproval, metrics attached),
else a Fail step whose message says why.

Every job is encrypted (volume and output KMS key), network-isolated, with inter-container traffic
encryption and, where configured, inside the VPC; the pipeline role denies any job without them. The step
code is baked into the step image, so no code is uploaded and the image digest pins the code version.

Environment values that are CloudFormation tokens at synth time (the KMS key and the image) are passed as
`${Name}` placeholders and substituted by the ML stack with `Fn::Sub` (see `SYNTH_PLACEHOLDERS`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from keel.config import EnvironmentConfig
from keel.contract import DatasetContract
from keel.naming import (
    LATEST_VERSIONS,
    BucketPurpose,
    bucket_name,
    job_role_name,
    model_package_group_name,
    partition,
    pipeline_name,
)
from keel.sagemaker_offline import prepare_offline_sdk

PROCESSING_ROOT = "/opt/ml/processing"
EVALUATION_JSON_PATH = "multiclass_classification_metrics.accuracy.value"


@dataclass(frozen=True)
class PipelineTargets:
    """Where the pipeline runs and writes: the environment-specific values of the definition."""

    pipeline_name: str
    job_role_arn: str
    kms_key_arn: str
    image_uri: str
    raw_bucket: str
    curated_bucket: str
    artifacts_bucket: str
    reports_bucket: str
    model_package_group: str
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


# Substituted by `Fn::Sub` in the ML stack; everything else (the role too: its name is deterministic) is
# known from the config at synth time.
SYNTH_PLACEHOLDERS = {
    "kms_key_arn": "${ArtifactsKeyArn}",
    "image_uri": "${StepImageUri}",
}


def targets_for(config: EnvironmentConfig, **values: str) -> PipelineTargets:
    """Targets of an environment; key and image default to the synth placeholders."""
    vpc = config.security.vpc
    return PipelineTargets(
        pipeline_name=pipeline_name(config),
        job_role_arn=values.get(
            "job_role_arn", f"arn:{partition(config)}:iam::{config.account}:role/{job_role_name(config)}"
        ),
        kms_key_arn=values.get("kms_key_arn", SYNTH_PLACEHOLDERS["kms_key_arn"]),
        image_uri=values.get("image_uri", SYNTH_PLACEHOLDERS["image_uri"]),
        raw_bucket=bucket_name(config, BucketPurpose.RAW),
        curated_bucket=bucket_name(config, BucketPurpose.CURATED),
        artifacts_bucket=bucket_name(config, BucketPurpose.ARTIFACTS),
        reports_bucket=bucket_name(config, BucketPurpose.REPORTS),
        model_package_group=model_package_group_name(config),
        subnet_ids=vpc.subnet_ids if vpc else (),
        security_group_ids=vpc.security_group_ids if vpc else (),
        tags=config.tags,
    )


@dataclass(frozen=True)
class StepNames:
    validate: str = "ValidateData"
    combine_validation: str = "CombineValidation"
    preprocess: str = "Preprocess"
    train: str = "Train"
    evaluate: str = "Evaluate"
    drift: str = "MeasureDrift"
    condition: str = "QualityGate"
    register: str = "RegisterModel"
    fail: str = "RejectModel"


STEPS = StepNames()


def build_pipeline(config: EnvironmentConfig, contract: DatasetContract, targets: PipelineTargets) -> Any:
    """The `sagemaker.mlops.workflow.pipeline.Pipeline` of one environment (no AWS calls)."""
    prepare_offline_sdk(config.region)
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
        Tag,
    )
    from sagemaker.core.workflow.conditions import ConditionEquals, ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.pipeline_experiment_config import PipelineExperimentConfig
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, Networking, OutputDataConfig, StoppingCondition

    session = PipelineSession(default_bucket=targets.artifacts_bucket)
    thresholds, sizes, training = config.thresholds, config.sizes, config.training

    # --- parameters: what a trigger may set per execution (recorded with the execution for lineage) ---
    input_uri = ParameterString(
        "InputDataUri", default_value=f"s3://{targets.raw_bucket}/{contract.landing_prefix}"
    )
    input_version = ParameterString("InputObjectVersion", default_value=LATEST_VERSIONS)
    trigger = ParameterString("TriggerReason", default_value="manual")
    min_accuracy = ParameterFloat("MinAccuracy", default_value=thresholds.min_accuracy)
    max_psi = ParameterFloat("MaxFeaturePsi", default_value=thresholds.max_feature_psi)
    ks_p_value = ParameterFloat("KsPValue", default_value=thresholds.ks_p_value)
    max_drift_share = ParameterFloat(
        "MaxDriftedFeatureShare", default_value=thresholds.max_drifted_feature_share
    )
    processing_type = ParameterString("ProcessingInstanceType", default_value=sizes.processing_instance_type)
    processing_count = ParameterInteger(
        "ProcessingInstanceCount", default_value=sizes.processing_instance_count
    )
    training_type = ParameterString("TrainingInstanceType", default_value=sizes.training_instance_type)
    training_count = ParameterInteger("TrainingInstanceCount", default_value=sizes.training_instance_count)
    approval_status = ParameterString("ModelApprovalStatus", default_value="PendingManualApproval")
    hyperparameters = {
        name: (
            ParameterInteger
            if isinstance(value, int)
            else ParameterFloat
            if isinstance(value, float)
            else ParameterString
        )(f"Hp{_camel(name)}", default_value=value)
        for name, value in training.hyperparameters.items()
    }
    parameters = [
        input_uri,
        input_version,
        trigger,
        min_accuracy,
        max_psi,
        ks_p_value,
        max_drift_share,
        processing_type,
        processing_count,
        training_type,
        training_count,
        approval_status,
        *hyperparameters.values(),
    ]

    network = NetworkConfig(
        enable_network_isolation=True,
        encrypt_inter_container_traffic=True,
        security_group_ids=list(targets.security_group_ids) or None,
        subnets=list(targets.subnet_ids) or None,
    )
    tags = [{"Key": k, "Value": v} for k, v in targets.tags.items()]

    def output_uri(bucket: str, name: str) -> Any:
        return Join(
            on="/",
            values=[
                f"s3://{bucket}",
                "pipeline",
                targets.pipeline_name,
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                name,
            ],
        )

    def processor(module: str, *, instance_count: Any = 1) -> Any:
        return Processor(
            role=targets.job_role_arn,
            image_uri=targets.image_uri,
            entrypoint=["python3", "-m", f"pipeline_steps.{module}"],
            instance_type=processing_type,
            instance_count=instance_count,
            volume_size_in_gb=sizes.processing_volume_gb,
            volume_kms_key=targets.kms_key_arn,
            output_kms_key=targets.kms_key_arn,
            max_runtime_in_seconds=training.max_runtime_minutes * 60,
            base_job_name=f"{config.prefix}-{module}",
            sagemaker_session=session,
            network_config=network,
            env={"KEEL_ENV": config.name},
            tags=tags,
        )

    def s3_input(name: str, uri: Any, *, sharded: bool = False) -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri,
                local_path=f"{PROCESSING_ROOT}/input/{name}",
                s3_data_type="S3Prefix",
                s3_input_mode="File",
                s3_data_distribution_type="ShardedByS3Key" if sharded else "FullyReplicated",
            ),
        )

    def s3_output(name: str, bucket: str) -> Any:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=output_uri(bucket, name),
                local_path=f"{PROCESSING_ROOT}/output/{name}",
                s3_upload_mode="EndOfJob",
            ),
        )

    def output_of(step: Any, name: str) -> Any:
        return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    contract_arg = ["--contract", contract.name]

    # --- Validate: each instance checks its shard; failing rows are quarantined, never dropped ---
    validate = ProcessingStep(
        name=STEPS.validate,
        display_name="Validate data against the contract",
        description=f"Great Expectations suite generated from contract {contract.name} v{contract.version}; "
        "failing rows go to the quarantine output.",
        step_args=processor("validate", instance_count=processing_count).run(
            inputs=[s3_input("data", input_uri, sharded=True)],
            outputs=[
                s3_output("validation", targets.reports_bucket),
                s3_output("quarantine", targets.curated_bucket),
            ],
            arguments=[*contract_arg, "--report-only"],
        ),
    )
    validation_summary = PropertyFile(name="ValidationSummary", output_name="validation", path="summary.json")
    combine = ProcessingStep(
        name=STEPS.combine_validation,
        display_name="Combine shard validation results",
        description="Merges the per-shard summaries; a failed validation fails this job and the run.",
        step_args=processor("validate").run(
            inputs=[s3_input("shards", output_of(validate, "validation"))],
            outputs=[s3_output("validation", targets.reports_bucket)],
            # No --report-only: a failed validation fails this job, which stops the pipeline here.
            arguments=[
                *contract_arg,
                "--combine",
                "--input",
                f"{PROCESSING_ROOT}/input/shards",
            ],
        ),
        property_files=[validation_summary],
    )
    # --- Preprocess: seeded split and the drift baseline ---
    preprocess = ProcessingStep(
        name=STEPS.preprocess,
        display_name="Split data and build the drift baseline",
        description="Deterministic train/validation/test split; PSI bins and sorted reference values.",
        step_args=processor("preprocess").run(
            inputs=[s3_input("data", input_uri)],
            outputs=[s3_output(name, targets.curated_bucket) for name in ("train", "validation", "test")]
            + [s3_output("baseline", targets.artifacts_bucket)],
            arguments=[
                *contract_arg,
                "--seed",
                str(training.random_seed),
                "--validation-fraction",
                str(training.validation_fraction),
                "--test-fraction",
                str(training.test_fraction),
            ],
        ),
        depends_on=[combine],
    )
    # --- Train ---
    trainer = ModelTrainer(
        sagemaker_session=session,
        role=targets.job_role_arn,
        training_image=targets.image_uri,
        base_job_name=f"{config.prefix}-train",
        compute=Compute(
            instance_type=training_type,
            instance_count=training_count,
            volume_size_in_gb=sizes.processing_volume_gb,
            volume_kms_key_id=targets.kms_key_arn,
        ),
        networking=Networking(
            enable_network_isolation=True,
            enable_inter_container_traffic_encryption=True,
            subnets=list(targets.subnet_ids) or None,
            security_group_ids=list(targets.security_group_ids) or None,
        ),
        output_data_config=OutputDataConfig(
            s3_output_path=f"s3://{targets.artifacts_bucket}/pipeline/{targets.pipeline_name}/models",
            kms_key_id=targets.kms_key_arn,
        ),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=training.max_runtime_minutes * 60),
        hyperparameters={**hyperparameters, "contract": contract.name},
        input_data_config=[
            InputData(channel_name="train", data_source=output_of(preprocess, "train")),
            InputData(channel_name="validation", data_source=output_of(preprocess, "validation")),
        ],
        environment={"KEEL_ENV": config.name},
        tags=[Tag(key=k, value=v) for k, v in targets.tags.items()],
    )
    train = TrainingStep(
        name=STEPS.train,
        display_name="Train the model",
        description="scikit-learn classifier of the contract's target; hyperparameters are parameters.",
        step_args=trainer.train(),
    )
    # --- Evaluate ---
    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        name=STEPS.evaluate,
        display_name="Evaluate on the test split",
        description="Model-quality metrics in the SageMaker format, read by the quality gate.",
        step_args=processor("evaluate").run(
            inputs=[
                s3_input("model", train.properties.ModelArtifacts.S3ModelArtifacts),
                s3_input("test", output_of(preprocess, "test")),
            ],
            outputs=[s3_output("evaluation", targets.reports_bucket)],
            arguments=[*contract_arg],
        ),
        property_files=[evaluation],
    )
    # --- Drift: the held-out data against the training baseline ---
    drift_report = PropertyFile(name="DriftReport", output_name="drift", path="drift_report.json")
    drift = ProcessingStep(
        name=STEPS.drift,
        display_name="Measure drift against the training baseline",
        description="Per-feature PSI and Kolmogorov-Smirnov; JSON and HTML reports.",
        step_args=processor("drift").run(
            inputs=[
                s3_input("baseline", output_of(preprocess, "baseline")),
                s3_input("data", output_of(preprocess, "test")),
            ],
            outputs=[s3_output("drift", targets.reports_bucket)],
            arguments=[
                *contract_arg,
                "--max-feature-psi",
                max_psi.to_string(),
                "--ks-p-value",
                ks_p_value.to_string(),
                "--max-drifted-feature-share",
                max_drift_share.to_string(),
            ],
        ),
        property_files=[drift_report],
    )
    # --- Register, only when the gate passes ---
    builder = ModelBuilder(
        image_uri=targets.image_uri,
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=targets.job_role_arn,
        sagemaker_session=session,
        dependencies={},
    )
    evaluation_uri = Join(on="/", values=[output_of(evaluate, "evaluation"), "evaluation.json"])
    register = ModelStep(
        name=STEPS.register,
        display_name="Register the model version",
        step_args=builder.register(
            model_package_group_name=targets.model_package_group,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[sizes.processing_instance_type],
            transform_instances=[sizes.processing_instance_type],
            approval_status=approval_status,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri)
            ),
            description=f"Keel {config.name}: {contract.name} v{contract.version}",
            customer_metadata_properties={
                "keel:contract": contract.name,
                "keel:contract_version": contract.version,
                "keel:input_data_uri": input_uri,
                "keel:input_object_version": input_version,
                "keel:trigger": trigger,
                "keel:execution_id": ExecutionVariables.PIPELINE_EXECUTION_ID,
            },
        ),
    )
    accuracy = JsonGet(step_name=STEPS.evaluate, property_file=evaluation, json_path=EVALUATION_JSON_PATH)
    fail = FailStep(
        name=STEPS.fail,
        error_message=Join(
            on=" ",
            values=[
                "Model not registered: the quality gate requires validation success and test accuracy >=",
                min_accuracy,
                "; accuracy was",
                accuracy,
                "and validation success was",
                JsonGet(
                    step_name=STEPS.combine_validation, property_file=validation_summary, json_path="success"
                ),
            ],
        ),
    )
    gate = ConditionStep(
        name=STEPS.condition,
        display_name="Quality gate",
        description="Register only if validation passed and accuracy meets the environment's threshold.",
        conditions=[
            ConditionEquals(
                left=JsonGet(
                    step_name=STEPS.combine_validation, property_file=validation_summary, json_path="success"
                ),
                right=True,
            ),
            ConditionGreaterThanOrEqualTo(left=accuracy, right=min_accuracy),
        ],
        if_steps=[register],
        else_steps=[fail],
        depends_on=[drift],
    )
    return Pipeline(
        name=targets.pipeline_name,
        parameters=parameters,
        steps=[validate, combine, preprocess, train, evaluate, drift, gate],
        pipeline_experiment_config=PipelineExperimentConfig(
            ExecutionVariables.PIPELINE_NAME, ExecutionVariables.PIPELINE_EXECUTION_ID
        ),
        sagemaker_session=session,
    )


def pipeline_definition(
    config: EnvironmentConfig, contract: DatasetContract, targets: PipelineTargets | None = None
) -> dict[str, Any]:
    """The definition as a JSON document (placeholders left in when `targets` is None)."""
    # The SDK logs at DEBUG..WARNING while building (and configures loggers as it goes): silence it here.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        pipeline = build_pipeline(config, contract, targets or targets_for(config))
        return json.loads(pipeline.definition())
    finally:
        logging.disable(previous)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
