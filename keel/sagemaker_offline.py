"""Import the SageMaker SDK v3 so that it can build pipeline definitions offline.

At synth time and in tests nothing may call AWS: the SDK creates clients at import (needs a region), validates
roles through IAM (SimulatePrincipalPolicy), and sends telemetry (STS + HTTPS) from a background thread.
The documented opt-out (TelemetryOptOut in the SDK config) costs ~4 s per build, so the sender is replaced.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any


def _no_telemetry(*_args: Any, **_kwargs: Any) -> None:
    return None


def prepare_offline_sdk(region: str) -> None:
    """Call before the first `import sagemaker...`; idempotent."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ["SAGEMAKER_VALIDATE_ROLE"] = "false"
    # The SDK narrates definition building (config files it did not find, fields it pops, "No Wait" under
    # a PipelineSession) at DEBUG to WARNING; none of it is actionable here.
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
    from sagemaker.core.telemetry import telemetry_logging

    telemetry_logging._send_telemetry_request = _no_telemetry
    telemetry_logging._send_telemetry_request_sync = _no_telemetry
    quiet_sdk_loggers()


def quiet_sdk_loggers() -> None:
    """Some SDK modules set their own logger levels when imported: call again after importing them."""
    for name in list(logging.root.manager.loggerDict):
        if name == "sagemaker" or name.startswith("sagemaker."):
            logging.getLogger(name).setLevel(logging.ERROR)
