"""A stand-in Lambda handler module for tests of `keel.scenario.lambdas`."""

from __future__ import annotations

import os
import warnings
from typing import Any

LOADED_WITH = os.environ.get("KEEL_FAKE_SETTING")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    print(f"handled {event['n']} in {context.function_name}")
    warnings.warn("a warning Lambda would log", UserWarning, stacklevel=1)
    return {"n": event["n"], "setting": os.environ.get("KEEL_FAKE_SETTING"), "loaded_with": LOADED_WITH}
