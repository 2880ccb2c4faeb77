"""Keel's deployed Lambda functions, invoked in-process: moto keeps the functions (code location, handler,
environment) but cannot run their code without Docker. An invocation imports the function's `Handler` with
the environment the stack deployed (read back with GetFunctionConfiguration), pointed at the local AWS, and
calls it with a Lambda context — the code path Lambda runs. The events come from the deployed routing: the
local AWS keeps what its EventBridge rules send to each function (`take`, `deliver`). What the function
prints (Powertools logs and EMF metrics) goes to `<log_dir>/<function>.log`, as CloudWatch Logs keeps it."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from keel.aws import FAKE_CREDENTIALS
from keel.config import EnvironmentConfig
from keel.feedback.runtime import LocalContext
from keel.local.lambda_events import take_events
from keel.naming import lambda_function_name


class FunctionNotDeployedError(LookupError):
    """The function is not in the local AWS: deploy env local first (`keel local up`)."""


@dataclass
class _Loaded:
    module: ModuleType
    handler: str
    environment: dict[str, str]
    log: TextIO


@dataclass
class LocalLambdas:
    config: EnvironmentConfig
    lambda_client: Any
    endpoint_url: str
    log_dir: Path
    invocations: dict[str, int] = field(default_factory=dict)
    _loaded: dict[str, _Loaded] = field(default_factory=dict)

    def invoke(self, folder: str, event: Any) -> Any:
        """Invoke the function whose code is `lambdas/<folder>/` with `event`; its result, or its error."""
        name = lambda_function_name(self.config, folder)
        loaded = self._loaded.get(name) or self._load(name)
        context = LocalContext(function_name=name)
        with self._environment(loaded):
            result = getattr(loaded.module, loaded.handler)(event, context)
        self.invocations[name] = self.invocations.get(name, 0) + 1
        return result

    def prepare(self, folder: str, setup: Callable[[ModuleType], None]) -> None:
        """Run `setup(module)` in the function's environment once it is loaded (e.g. to replace a dependency
        the local AWS cannot serve, as the handler's own `build_runtime(**overrides)` allows)."""
        name = lambda_function_name(self.config, folder)
        loaded = self._loaded.get(name) or self._load(name)
        with self._environment(loaded):
            setup(loaded.module)

    def take(self, folder: str) -> list[dict[str, Any]]:
        """The events EventBridge routed to the function (its deployed rules and targets) since last time."""
        kept = take_events(
            self.endpoint_url,
            lambda_function_name(self.config, folder),
            account=self.config.account,
            region=self.config.region,
        )
        return [item["event"] for item in kept]

    def deliver(self, folder: str) -> list[Any]:
        """Invoke the function with each event EventBridge routed to it; the results, in order."""
        return [self.invoke(folder, event) for event in self.take(folder)]

    def close(self) -> None:
        for loaded in self._loaded.values():
            loaded.log.close()
        self._loaded.clear()

    def _load(self, name: str) -> _Loaded:
        try:
            function = self.lambda_client.get_function_configuration(FunctionName=name)
        except self.lambda_client.exceptions.ResourceNotFoundException:
            raise FunctionNotDeployedError(
                f"Lambda function {name!r} is not deployed in the local AWS: run `keel local up`"
            ) from None
        module_name, _, handler = function["Handler"].rpartition(".")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        loaded = _Loaded(
            module=ModuleType(module_name),  # imported below, in the function's environment
            handler=handler,
            environment=dict((function.get("Environment") or {}).get("Variables") or {}),
            log=(self.log_dir / f"{name}.log").open("a", encoding="utf-8"),
        )
        with self._environment(loaded):
            # A fresh container: module state (cached clients, the runtime) is built in this environment.
            module = sys.modules.get(module_name)
            loaded.module = importlib.reload(module) if module else importlib.import_module(module_name)
        self._loaded[name] = loaded
        return loaded

    @contextlib.contextmanager
    def _environment(self, loaded: _Loaded) -> Iterator[None]:
        values = {
            **loaded.environment,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_REGION": self.config.region,
            # No X-Ray daemon here: Powertools' tracer would try to send segments.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
        try:
            with contextlib.redirect_stdout(loaded.log), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield
            for warning in caught:  # Lambda would log them with the function's output
                loaded.log.write(f"{warning.category.__name__}: {warning.message}\n")
        finally:
            loaded.log.flush()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
