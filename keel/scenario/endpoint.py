"""Keel's endpoint answering requests locally: the model version the endpoint serves (as the deployer left it
in the local AWS) predicts each request with the serving container's own code (`keel.serving.inference`),
and every request and answer is captured where SageMaker data capture writes them — what the drift check and
the feedback loop read."""

from __future__ import annotations

import io
import tarfile
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.config import EnvironmentConfig
from keel.local.runner.s3io import split_uri
from keel.monitoring.capture import capture_key, capture_record
from keel.scenario.serving import served_version
from keel.serving import inference
from keel.serving.names import capture_bucket, endpoint_capture_uri


class NothingServedError(RuntimeError):
    """The endpoint serves no Keel model version yet."""


@dataclass(frozen=True)
class Prediction:
    inference_id: str
    features: list[float]
    predicted: Any


@dataclass
class LocalEndpoint:
    config: EnvironmentConfig
    sagemaker: Any
    s3: Any
    _models: dict[str, tuple[Any, list[str]]] = field(default_factory=dict)

    def invoke(
        self, records: Sequence[Mapping[str, float]], *, now: datetime | None = None
    ) -> list[Prediction]:
        """One request per record (a CSV row of the model's features, in the model card's order), answered
        and captured; the batch is one capture file."""
        version = served_version(self.config, sagemaker=self.sagemaker)
        if version is None:
            raise NothingServedError("the endpoint serves no model version: approve and deploy one first")
        model, features = self._model(version.model_data_url)
        now = now or datetime.now(UTC)
        rows = [[float(record[name]) for name in features] for record in records]
        # The model answers all rows in one pass; each row is captured as its own request, as clients
        # sending one row per request would be.
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()
        answer, _ = inference.predict(model, features, body, "text/csv")
        predictions = [
            Prediction(uuid.uuid4().hex, row, predicted)
            for row, predicted in zip(rows, answer.decode().split(), strict=True)
        ]
        lines = [
            capture_record(
                p.features,
                inference_id=p.inference_id,
                event_id=str(uuid.uuid4()),
                time=now,
                prediction=p.predicted,
            )
            for p in predictions
        ]
        bucket = capture_bucket(self.config)
        prefix = endpoint_capture_uri(self.config).removeprefix(f"s3://{bucket}/")
        key = capture_key(prefix, now, uuid.uuid4().hex)
        self.s3.put_object(Bucket=bucket, Key=key, Body="\n".join(lines).encode() + b"\n")
        return predictions

    def _model(self, model_data_url: str) -> tuple[Any, list[str]]:
        if model_data_url not in self._models:
            bucket, key = split_uri(model_data_url)
            archive = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            with tempfile.TemporaryDirectory(prefix="keel-endpoint-") as scratch:
                with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
                    tar.extractall(scratch, filter="data")
                self._models[model_data_url] = inference.load(Path(scratch))
        return self._models[model_data_url]
