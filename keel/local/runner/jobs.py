"""Run one processing or training job of the definition as local processes, through the container contract.

Each instance of a job gets its own folder standing in for the container's `/`: inputs are downloaded to
`<root>/opt/ml/processing/input/...` (sharded across instances for ShardedByS3Key), the job's entrypoint
runs with `KEEL_CONTAINER_ROOT=<root>` (the step scripts resolve their `/opt/ml/...` defaults below it) and
its outputs are uploaded to the step's S3 URIs with the step's output KMS key, as SageMaker would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.config import PROJECT_ROOT
from keel.local.runner import s3io

CONTAINER_ROOT_ENV = "KEEL_CONTAINER_ROOT"
# What the step image's entrypoint runs for `IMAGE train` (pipeline_steps/image/entrypoint.sh).
TRAINING_MODULE = "pipeline_steps.train"


class JobFailedError(RuntimeError):
    """The job's process exited non-zero; the message carries the end of its error output."""

    def __init__(self, step: str, exit_code: int, detail: str, log_path: Path) -> None:
        super().__init__(f"{step} failed (exit {exit_code}): {detail}")
        self.step, self.exit_code, self.detail, self.log_path = step, exit_code, detail, log_path
        self.result: JobResult | None = None  # what the job wrote before failing (uploaded for inspection)


@dataclass
class JobResult:
    properties: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)  # provenance of every downloaded object
    outputs: dict[str, str] = field(default_factory=dict)  # output name -> S3 URI
    logs: list[str] = field(default_factory=list)


def _in_root(root: Path, container_path: str) -> Path:
    return root / container_path.lstrip("/")


def _rewrite_arguments(arguments: list[Any], root: Path) -> list[str]:
    return [
        str(_in_root(root, a)) if isinstance(a, str) and a.startswith("/opt/ml") else str(a)
        for a in arguments
    ]


def _command(entrypoint: list[str]) -> list[str]:
    # The image runs `python3 -m ...`; locally that is this interpreter (the project venv).
    if entrypoint and entrypoint[0] in ("python3", "python"):
        return [sys.executable, *entrypoint[1:]]
    return list(entrypoint)


# What a failed job reports, as SageMaker builds it: the container's own words (processing jobs:
# /opt/ml/output/message, as ExitMessage; training jobs: /opt/ml/output/failure), first KB; else the generic
# reason SageMaker gives, and the logs hold the rest.
MESSAGE_FILES = ("/opt/ml/output/message", "/opt/ml/output/failure")
REASON_LIMIT = 1024
GENERIC_REASON = "AlgorithmError: See job logs for more information"


def failure_reason(root: Path, exit_code: int) -> str:
    for name in MESSAGE_FILES:
        path = _in_root(root, name)
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                return f"AlgorithmError: {text}"[:REASON_LIMIT]
    return f"{GENERIC_REASON} (exit code {exit_code})"


def _run(step: str, command: list[str], *, env: dict[str, str], log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}
    environment.pop("AWS_ENDPOINT_URL", None)  # jobs are network-isolated: they must not reach AWS
    with log_path.open("w", encoding="utf-8") as log:
        completed = subprocess.run(
            command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if completed.returncode != 0:
        root = Path(env[CONTAINER_ROOT_ENV])
        raise JobFailedError(step, completed.returncode, failure_reason(root, completed.returncode), log_path)


def run_processing(step: str, arguments: dict[str, Any], *, s3: Any, workdir: Path) -> JobResult:
    cluster = arguments["ProcessingResources"]["ClusterConfig"]
    instance_count = int(cluster["InstanceCount"])
    app = arguments["AppSpecification"]
    kms_key = arguments.get("ProcessingOutputConfig", {}).get("KmsKeyId")
    hosts = [f"algo-{i + 1}" for i in range(instance_count)]
    result = JobResult(properties={"ProcessingOutputConfig": {"Outputs": {}}})
    listings = {
        item["InputName"]: s3io.list_objects(s3, item["S3Input"]["S3Uri"])
        for item in arguments.get("ProcessingInputs", [])
    }
    for index, host in enumerate(hosts):
        root = workdir / step / host
        for item in arguments.get("ProcessingInputs", []):
            s3_input = item["S3Input"]
            objects = listings[item["InputName"]]
            if s3_input.get("S3DataDistributionType") == "ShardedByS3Key":
                objects = objects[index::instance_count]
            result.inputs += [
                {**p, "input": item["InputName"], "host": host}
                for p in s3io.download(s3, objects, s3_input["S3Uri"], _in_root(root, s3_input["LocalPath"]))
            ]
        for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
            _in_root(root, item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        _in_root(root, "/opt/ml/output").mkdir(parents=True, exist_ok=True)  # for the exit message
        config_path = _in_root(root, "/opt/ml/config/resourceconfig.json")
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(json.dumps({"current_host": host, "hosts": hosts}), encoding="utf-8")
        command = _command(app.get("ContainerEntrypoint", [])) + _rewrite_arguments(
            app.get("ContainerArguments", []), root
        )
        log_path = workdir / "logs" / f"{step}-{host}.log"
        failure: JobFailedError | None = None
        try:
            _run(
                step,
                command,
                env={**arguments.get("Environment", {}), CONTAINER_ROOT_ENV: str(root)},
                log_path=log_path,
            )
        except JobFailedError as error:
            failure = error
        result.logs.append(str(log_path))
        # Outputs are uploaded even when the job failed: a failed validation's summary and quarantined rows
        # must stay inspectable (nothing is lost).
        for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
            output = item["S3Output"]
            s3io.upload_tree(s3, _in_root(root, output["LocalPath"]), output["S3Uri"], kms_key_id=kms_key)
            result.outputs[item["OutputName"]] = output["S3Uri"]
            result.properties["ProcessingOutputConfig"]["Outputs"][item["OutputName"]] = {
                "OutputName": item["OutputName"],
                "S3Output": {"S3Uri": output["S3Uri"]},
            }
        if failure is not None:
            failure.result = result
            raise failure
    return result


def run_training(step: str, arguments: dict[str, Any], *, s3: Any, workdir: Path, job_name: str) -> JobResult:
    root = workdir / step / "algo-1"
    result = JobResult(properties={"TrainingJobName": job_name})
    env: dict[str, str] = {**arguments.get("Environment", {}), CONTAINER_ROOT_ENV: str(root)}
    for channel in arguments.get("InputDataConfig", []):
        source = channel["DataSource"]["S3DataSource"]["S3Uri"]
        local = _in_root(root, f"/opt/ml/input/data/{channel['ChannelName']}")
        result.inputs += [
            {**p, "input": channel["ChannelName"]}
            for p in s3io.download(s3, s3io.list_objects(s3, source), source, local)
        ]
        env[f"SM_CHANNEL_{channel['ChannelName'].upper()}"] = str(local)
    hyperparameters = {k: str(v) for k, v in arguments.get("HyperParameters", {}).items()}
    hp_path = _in_root(root, "/opt/ml/input/config/hyperparameters.json")
    hp_path.parent.mkdir(parents=True, exist_ok=True)
    hp_path.write_text(json.dumps(hyperparameters), encoding="utf-8")
    model_dir, output_dir = _in_root(root, "/opt/ml/model"), _in_root(root, "/opt/ml/output/data")
    model_dir.mkdir(parents=True, exist_ok=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    env |= {
        "SM_MODEL_DIR": str(model_dir),
        "SM_OUTPUT_DATA_DIR": str(output_dir),
        "SM_HPS": json.dumps(hyperparameters),
        "SM_CURRENT_HOST": "algo-1",
        "SM_HOSTS": '["algo-1"]',
    }
    log_path = workdir / "logs" / f"{step}.log"
    _run(step, [sys.executable, "-m", TRAINING_MODULE], env=env, log_path=log_path)
    result.logs.append(str(log_path))
    # SageMaker's layout: <S3OutputPath>/<job name>/output/model.tar.gz
    output = arguments["OutputDataConfig"]
    archive = workdir / step / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    model_uri = f"{output['S3OutputPath'].rstrip('/')}/{job_name}/output/model.tar.gz"
    s3io.upload_file(s3, archive, model_uri, kms_key_id=output.get("KmsKeyId"))
    if any(output_dir.iterdir()):
        s3io.upload_tree(
            s3,
            output_dir,
            f"{output['S3OutputPath'].rstrip('/')}/{job_name}/output/data",
            kms_key_id=output.get("KmsKeyId"),
        )
    result.outputs["model"] = model_uri
    result.properties["ModelArtifacts"] = {"S3ModelArtifacts": model_uri}
    return result
