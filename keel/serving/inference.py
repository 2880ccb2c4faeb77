"""The model server SageMaker hosting runs (`docker run IMAGE serve`): GET /ping and POST /invocations on port
8080, the model from /opt/ml/model (model.joblib and model_card.json, as the train step writes them).

Requests are CSV rows of the model's features in the card's order (the format data capture records and the
drift check parses) or JSON (an object, a list of objects, or {"instances": [...]}); the answer is one
predicted class per row, as CSV (or a JSON list when the request was JSON). Standard library only, besides
the model's own libraries, which the step image has.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODEL_DIR = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
PORT = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080"))


class BadRequestError(ValueError):
    pass


def parse_rows(body: bytes, content_type: str, features: Sequence[str]) -> list[list[float]]:
    text = body.decode("utf-8")
    if "json" in content_type:
        document = json.loads(text)
        if isinstance(document, dict) and "instances" in document:
            document = document["instances"]
        items = (
            document
            if isinstance(document, list) and document and isinstance(document[0], dict | list)
            else [document]
        )
        rows = [[item[name] for name in features] if isinstance(item, dict) else item for item in items]
    else:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    parsed = []
    for row in rows:
        if len(row) != len(features):
            raise BadRequestError(f"{len(row)} value(s), expected {len(features)}: {', '.join(features)}")
        try:
            parsed.append([float(value) for value in row])
        except (TypeError, ValueError):
            raise BadRequestError(f"non-numeric value in {row!r}") from None
    if not parsed:
        raise BadRequestError("no rows")
    return parsed


def predict(model: Any, features: Sequence[str], body: bytes, content_type: str) -> tuple[bytes, str]:
    import pandas as pd

    try:
        rows = parse_rows(body, content_type, features)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError) as error:
        raise BadRequestError(str(error)) from None
    # Named columns only for a model fitted with names: sklearn warns (and may misalign) otherwise.
    frame = pd.DataFrame(rows, columns=list(features))
    inputs = frame if hasattr(model, "feature_names_in_") else frame.to_numpy()
    predictions = [p.item() if hasattr(p, "item") else p for p in model.predict(inputs)]
    if "json" in content_type:
        return json.dumps(predictions).encode(), "application/json"
    return "\n".join(str(p) for p in predictions).encode() + b"\n", "text/csv"


def load(model_dir: Path = MODEL_DIR) -> tuple[Any, list[str]]:
    import joblib

    card = json.loads((model_dir / "model_card.json").read_text(encoding="utf-8"))
    return joblib.load(model_dir / card.get("model_file", "model.joblib")), list(card["features"])


def handler_class(model: Any, features: Sequence[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/ping":
                self._answer(HTTPStatus.OK, b"", "text/plain")
            else:
                self._answer(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

        def do_POST(self) -> None:
            if self.path != "/invocations":
                self._answer(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                answer, content_type = predict(
                    model, features, body, self.headers.get("Content-Type", "text/csv")
                )
            except BadRequestError as error:
                self._answer(HTTPStatus.BAD_REQUEST, str(error).encode(), "text/plain")
                return
            self._answer(HTTPStatus.OK, answer, content_type)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def main() -> int:
    model, features = load()
    ThreadingHTTPServer(("0.0.0.0", PORT), handler_class(model, features)).serve_forever()  # noqa: S104
    return 0


if __name__ == "__main__":
    sys.exit(main())
