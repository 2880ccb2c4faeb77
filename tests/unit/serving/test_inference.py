"""The model server SageMaker hosting runs: /ping, /invocations in CSV and JSON, bad requests."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import joblib
import pytest
from sklearn.tree import DecisionTreeClassifier

from keel.serving.inference import BadRequestError, handler_class, load, parse_rows, predict

FEATURES = ["alcohol", "ph"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    import pandas as pd

    frame = pd.DataFrame([[9.0, 3.0], [13.0, 3.5]], columns=FEATURES)
    joblib.dump(DecisionTreeClassifier().fit(frame, [5, 7]), folder / "model.joblib")
    (folder / "model_card.json").write_text(json.dumps({"model_file": "model.joblib", "features": FEATURES}))
    return folder


def test_predict_csv_and_json(model_dir: Path) -> None:
    model, features = load(model_dir)
    assert predict(model, features, b"9,3\n13,3.5\n", "text/csv") == (b"5\n7\n", "text/csv")
    body, kind = predict(
        model, features, json.dumps([{"alcohol": 13, "ph": 3.5}]).encode(), "application/json"
    )
    assert (json.loads(body), kind) == ([7], "application/json")
    assert parse_rows(json.dumps({"instances": [[9, 3]]}).encode(), "application/json", features) == [
        [9.0, 3.0]
    ]
    for bad in (b"1,2,3", b"x,1", b""):
        with pytest.raises(BadRequestError):
            predict(model, features, bad, "text/csv")


@pytest.fixture
def server(model_dir: Path) -> Iterator[str]:
    model, features = load(model_dir)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(model, features))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_sagemaker_container_contract(server: str) -> None:
    with urllib.request.urlopen(f"{server}/ping", timeout=5) as response:
        assert response.status == 200
    request = urllib.request.Request(
        f"{server}/invocations", data=b"13,3.5\n", headers={"Content-Type": "text/csv"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.read() == b"7\n"
    bad = urllib.request.Request(
        f"{server}/invocations", data=b"1\n", headers={"Content-Type": "text/csv"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(bad, timeout=5)
    assert error.value.code == 400
