"""Interpret a deployed SageMaker pipeline definition locally: the steps run in the definition's order, with
its parameters, property files and conditions; jobs run through `keel.local.runner.jobs`; a registered model
goes into the (local) model registry. The execution itself is started in the service so it has a real ARN."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.local.runner import s3io
from keel.local.runner.execution_status import is_local, record_step, report_execution_status
from keel.local.runner.expressions import ExecutionContext, ExpressionError, evaluate, evaluate_condition
from keel.local.runner.jobs import JobFailedError, JobResult, run_processing, run_training

Progress = Callable[[str, str, str], None]  # (step name, status, detail)


def _pipeline_and_execution(execution_arn: str) -> tuple[str, str]:
    """`arn:...:pipeline/<name>/execution/<id>` -> (name, id), or a clear error."""
    resource = execution_arn.split(":", 5)[-1]
    parts = resource.split("/")
    if len(parts) != 4 or parts[0] != "pipeline" or parts[2] != "execution":
        raise ValueError(f"not a pipeline execution ARN: {execution_arn!r}")
    return parts[1], parts[3]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class StepOutcome:
    name: str
    type: str
    status: str  # Succeeded | Failed | Skipped
    started: str
    ended: str
    detail: str = ""
    job_name: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    job_arn: str | None = None


@dataclass
class RunResult:
    pipeline_name: str
    pipeline_arn: str
    execution_arn: str
    execution_id: str
    parameters: dict[str, Any]
    status: str  # Succeeded | Failed
    started: str
    ended: str
    failure_reason: str | None
    steps: list[StepOutcome]
    property_files: dict[str, Any]
    model_package_arn: str | None
    definition_sha256: str

    def step(self, name: str) -> StepOutcome | None:
        return next((s for s in self.steps if s.name == name), None)


class LocalPipelineRunner:
    def __init__(self, *, sagemaker: Any, s3: Any, workdir: Path, progress: Progress | None = None) -> None:
        self.sagemaker, self.s3, self.workdir = sagemaker, s3, workdir
        self.progress = progress or (lambda _step, _status, _detail: None)

    def run(
        self, pipeline_name: str, parameters: dict[str, Any] | None = None, *, display_name: str | None = None
    ) -> RunResult:
        """Start an execution of the deployed pipeline with these parameters, then execute it."""
        return self.execute(self.start(pipeline_name, parameters, display_name=display_name))

    def start(
        self,
        pipeline_name: str,
        parameters: dict[str, Any] | None = None,
        *,
        display_name: str | None = None,
        description: str | None = None,
    ) -> str:
        """StartPipelineExecution with every parameter resolved (defaults filled in); the execution ARN."""
        definition = json.loads(
            self.sagemaker.describe_pipeline(PipelineName=pipeline_name)["PipelineDefinition"]
        )
        resolved = self._parameters(definition, parameters or {})
        started = self.sagemaker.start_pipeline_execution(
            PipelineName=pipeline_name,
            PipelineExecutionDisplayName=display_name or "keel-local-run",
            PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in resolved.items()],
            **({"PipelineExecutionDescription": description} if description else {}),
        )
        return str(started["PipelineExecutionArn"])

    def execute(self, execution_arn: str) -> RunResult:
        """Run the steps of an execution started in the service (by a trigger, or `start`): its definition
        as it was when it started, its parameters; the outcome is reported back to the service."""
        import hashlib

        pipeline_name, execution_id = _pipeline_and_execution(execution_arn)
        described = self.sagemaker.describe_pipeline(PipelineName=pipeline_name)
        definition_text = self.sagemaker.describe_pipeline_definition_for_execution(
            PipelineExecutionArn=execution_arn
        )["PipelineDefinition"]
        definition = json.loads(definition_text)
        given = self.sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution_arn)
        resolved = self._parameters(
            definition, {p["Name"]: p["Value"] for p in given.get("PipelineParameters", [])}
        )
        context = ExecutionContext(
            parameters=resolved,
            execution={
                "PipelineExecutionId": execution_id,
                "PipelineExecutionArn": execution_arn,
                "PipelineName": pipeline_name,
                "StartDateTime": _now(),
                "CurrentDateTime": _now(),
            },
        )
        property_files: dict[str, Any] = {}
        declared_files: dict[tuple[str, str], tuple[str, str]] = {}

        def load_property_file(step_name: str, file_name: str) -> Any:
            key = f"{step_name}.{file_name}"
            if key not in property_files:
                output_name, path = declared_files[(step_name, file_name)]
                uri = context.steps[step_name]["ProcessingOutputConfig"]["Outputs"][output_name]["S3Output"][
                    "S3Uri"
                ]
                bucket, prefix = s3io.split_uri(f"{uri.rstrip('/')}/{path}")
                body = self.s3.get_object(Bucket=bucket, Key=prefix)["Body"].read()
                property_files[key] = json.loads(body)
            return property_files[key]

        context.property_file_loader = load_property_file
        outcomes: list[StepOutcome] = []
        run_started = _now()
        failure: str | None = None
        model_package_arn: str | None = None
        queue = list(definition["Steps"])
        while queue and failure is None:
            step = queue.pop(0)
            for item in step.get("PropertyFiles", []):
                declared_files[(step["Name"], item["PropertyFileName"])] = (
                    item["OutputName"],
                    item["FilePath"],
                )
            outcome, next_steps, arn = self._run_step(step, context, execution_id)
            outcomes.append(outcome)
            model_package_arn = arn or model_package_arn
            if outcome.status == "Failed":
                failure = f"{outcome.name}: {outcome.detail}"
            queue = next_steps + queue
        for step in queue:
            outcomes.append(
                StepOutcome(
                    step["Name"], step["Type"], "Skipped", _now(), _now(), "not run: an earlier step failed"
                )
            )
        for name in list(declared_files):
            try:
                load_property_file(*name)
            except Exception:  # noqa: S112 - a step that did not run has no property file
                continue
        report_execution_status(
            self.sagemaker, execution_arn, "Failed" if failure else "Succeeded", failure_reason=failure
        )
        return RunResult(
            pipeline_name=pipeline_name,
            pipeline_arn=described["PipelineArn"],
            execution_arn=execution_arn,
            execution_id=execution_id,
            parameters=resolved,
            status="Failed" if failure else "Succeeded",
            started=run_started,
            ended=_now(),
            failure_reason=failure,
            steps=outcomes,
            property_files=property_files,
            model_package_arn=model_package_arn,
            definition_sha256=hashlib.sha256(definition_text.encode()).hexdigest(),
        )

    @staticmethod
    def _parameters(definition: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        declared = {p["Name"]: p for p in definition.get("Parameters", [])}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValueError(
                f"unknown pipeline parameter(s) {', '.join(unknown)}; "
                f"the pipeline declares: {', '.join(declared)}"
            )
        casts: dict[str, Any] = {
            "String": str,
            "Integer": int,
            "Float": float,
            "Boolean": lambda v: str(v).lower() == "true",
        }
        resolved = {}
        for name, spec in declared.items():
            value = given.get(name, spec.get("DefaultValue"))
            try:
                resolved[name] = casts[spec["Type"]](value)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {name} must be of type {spec['Type']}, got {value!r}") from None
        return resolved

    def _run_step(
        self, step: dict[str, Any], context: ExecutionContext, execution_id: str
    ) -> tuple[StepOutcome, list[dict[str, Any]], str | None]:
        outcome, next_steps, arn = self._execute_step(step, context, execution_id)
        self._record(context, step, outcome)
        return outcome, next_steps, arn

    def _record(self, context: ExecutionContext, step: dict[str, Any], outcome: StepOutcome) -> None:
        """Keep the step as SageMaker does (ListPipelineExecutionSteps), with the metadata it reports."""
        metadata: dict[str, Any] = {}
        if outcome.job_arn:
            metadata["ProcessingJob" if outcome.type == "Processing" else "TrainingJob"] = {
                "Arn": outcome.job_arn
            }
        elif outcome.type == "Condition" and outcome.status == "Succeeded":
            metadata["Condition"] = {"Outcome": str(context.steps[outcome.name]["Outcome"]).lower()}
        elif outcome.type == "RegisterModel" and outcome.outputs.get("model_package"):
            metadata["RegisterModel"] = {"Arn": outcome.outputs["model_package"]}
        elif outcome.type == "Fail":
            metadata["Fail"] = {"ErrorMessage": outcome.detail}
        item: dict[str, Any] = {
            "StepName": outcome.name,
            "StepStatus": outcome.status,
            "StartTime": outcome.started,
            "EndTime": outcome.ended,
            "Metadata": metadata,
        }
        if step.get("DisplayName"):
            item["StepDisplayName"] = step["DisplayName"]
        if outcome.status == "Failed":
            item["FailureReason"] = outcome.detail[:3072]
        record_step(self.sagemaker, context.execution["PipelineExecutionArn"], item)

    def _create_job(self, kind: str, job_name: str, arguments: dict[str, Any]) -> str | None:
        """The job's record in the local SageMaker (Describe*/List* answer it), from the same request the
        definition holds; never against AWS, where SageMaker Pipelines creates and runs its jobs itself."""
        if not is_local(self.sagemaker):
            return None
        operation = "CreateProcessingJob" if kind == "Processing" else "CreateTrainingJob"
        name_key = "ProcessingJobName" if kind == "Processing" else "TrainingJobName"
        members = self.sagemaker.meta.service_model.operation_model(operation).input_shape.members
        request = {k: v for k, v in arguments.items() if k in members}
        if "HyperParameters" in request:  # SageMaker passes hyperparameters as strings
            request["HyperParameters"] = {k: str(v) for k, v in request["HyperParameters"].items()}
        create = getattr(
            self.sagemaker, "create_processing_job" if kind == "Processing" else "create_training_job"
        )
        answer = create(**{name_key: job_name}, **request)
        return str(answer["ProcessingJobArn" if kind == "Processing" else "TrainingJobArn"])

    def _execute_step(
        self, step: dict[str, Any], context: ExecutionContext, execution_id: str
    ) -> tuple[StepOutcome, list[dict[str, Any]], str | None]:
        name, kind = step["Name"], step["Type"]
        started = _now()
        self.progress(name, "Executing", step.get("DisplayName", ""))
        job_name = f"pipelines-{execution_id[:12]}-{name}"[:63]
        job_arn: str | None = None
        try:
            if kind in ("Processing", "Training"):
                arguments = evaluate(step["Arguments"], context)
                job_arn = self._create_job(kind, job_name, arguments)
                result: JobResult = (
                    run_processing(name, arguments, s3=self.s3, workdir=self.workdir)
                    if kind == "Processing"
                    else run_training(name, arguments, s3=self.s3, workdir=self.workdir, job_name=job_name)
                )
                context.steps[name] = result.properties
                outcome = StepOutcome(
                    name,
                    kind,
                    "Succeeded",
                    started,
                    _now(),
                    job_name=job_name,
                    inputs=result.inputs,
                    outputs=result.outputs,
                    logs=result.logs,
                    job_arn=job_arn,
                )
                self.progress(name, "Succeeded", "")
                return outcome, [], None
            if kind == "Condition":
                arguments = step["Arguments"]
                outcome_value = all(evaluate_condition(c, context) for c in arguments["Conditions"])
                context.steps[name] = {"Outcome": outcome_value}
                branch = arguments["IfSteps"] if outcome_value else arguments["ElseSteps"]
                self.progress(name, "Succeeded", f"outcome {outcome_value}")
                return (
                    StepOutcome(name, kind, "Succeeded", started, _now(), detail=f"outcome: {outcome_value}"),
                    list(branch),
                    None,
                )
            if kind == "Fail":
                message = evaluate(step["Arguments"].get("ErrorMessage", "failed"), context)
                self.progress(name, "Failed", str(message))
                return StepOutcome(name, kind, "Failed", started, _now(), detail=str(message)), [], None
            if kind == "RegisterModel":
                arguments = evaluate(step["Arguments"], context)
                arn = self._register(arguments)
                context.steps[name] = {"ModelPackageArn": arn}
                self.progress(name, "Succeeded", arn)
                return (
                    StepOutcome(
                        name, kind, "Succeeded", started, _now(), detail=arn, outputs={"model_package": arn}
                    ),
                    [],
                    arn,
                )
            raise ExpressionError(f"step type {kind!r} is not supported by the local runner")
        except JobFailedError as error:
            self.progress(name, "Failed", error.detail)
            partial = error.result
            if partial is not None:  # its outputs (e.g. the failed validation summary) stay readable
                context.steps[name] = partial.properties
            return (
                StepOutcome(
                    name,
                    kind,
                    "Failed",
                    started,
                    _now(),
                    detail=error.detail,
                    job_name=job_name,
                    inputs=partial.inputs if partial else [],
                    outputs=partial.outputs if partial else {},
                    logs=[str(error.log_path)],
                    job_arn=job_arn,
                ),
                [],
                None,
            )
        except (ExpressionError, KeyError, ValueError) as error:
            self.progress(name, "Failed", str(error))
            return StepOutcome(name, kind, "Failed", started, _now(), detail=str(error)), [], None

    def _register(self, arguments: dict[str, Any]) -> str:
        request = {
            k: v
            for k, v in arguments.items()
            if k
            in (
                "ModelPackageGroupName",
                "ModelPackageDescription",
                "InferenceSpecification",
                "ModelApprovalStatus",
                "ModelMetrics",
                "CustomerMetadataProperties",
                "MetadataProperties",
                "DriftCheckBaselines",
                "Domain",
                "Task",
                "SamplePayloadUrl",
            )
        }
        metrics = request.get("ModelMetrics")
        if isinstance(metrics, dict):  # the SDK emits empty Bias/Explainability sections
            request["ModelMetrics"] = {k: v for k, v in metrics.items() if v}
        response = self.sagemaker.create_model_package(**request)
        return str(response["ModelPackageArn"])
