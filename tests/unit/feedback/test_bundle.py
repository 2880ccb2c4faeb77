"""Each feedback Lambda's bundle imports with nothing but itself and what the Lambda runtime provides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keel.feedback.names import FeedbackFunction
from stacks.feedback.function import bundle_once

pytestmark = pytest.mark.xdist_group("synth")  # bundles are built by synth too: one worker builds them

# Packages the AWS Lambda Python runtime ships (boto3 and its dependencies).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six")


def test_handlers_import_from_their_bundles(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        module = __import__(name)
        source = Path(module.__file__).parent if name != "six" else Path(module.__file__)
        (runtime / source.name).symlink_to(source)
    for function in FeedbackFunction:
        bundle = bundle_once(function.value)
        code = (
            f"import sys; sys.path[:0] = [{str(bundle)!r}, {str(runtime)!r}]; "
            f"import lambdas.{function.value}.handler as h; assert callable(h.lambda_handler)"
        )
        command = [sys.executable, "-S", "-c", code]  # -S: no site-packages, only the two folders
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, (function, result.stderr[-2000:])
