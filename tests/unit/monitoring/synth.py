"""Synthesize an environment with the monitoring and serving stacks added to `build_environment`'s stacks, as
the app will wire them, under the four cdk-nag packs; once per test run (jsii start dominates).

Once per run, not per worker: the templates go to a folder shared by the xdist workers of the run, under a
file lock, so a second worker waits for the first one's synthesis instead of repeating it (xdist's loadgroup
does not keep a group on one worker with the pinned pytest/xdist versions).
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, RemovalPolicy
from aws_cdk.assertions import Template

from keel.config import EnvironmentConfig, config_from_app, load_environment, read_cdk_context
from keel.contract import load_contract
from stacks.app import KeelStacks, build_environment
from stacks.compliance import SKIP_ACKNOWLEDGMENTS_CONTEXT, add_compliance_checks
from stacks.monitoring.stack import MonitoringStack
from stacks.security.stack import SecurityStack
from stacks.serving.stack import ServingStack


@dataclass
class Synthesized:
    config: EnvironmentConfig
    outdir: Path

    def template_json(self, stack: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"Keel-{self.config.name}-{stack}.template.json").read_text())

    def template(self, stack: str) -> Template:
        return Template.from_json(self.template_json(stack))

    def resources(self, stack: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template_json(stack)["Resources"].items() if v["Type"] == resource_type}


def add_stacks(
    app: App, config: EnvironmentConfig, security: SecurityStack
) -> tuple[MonitoringStack, ServingStack]:
    """The wiring lines for stacks/app.py (after the ML stack)."""
    contract = load_contract(config.contract)
    removal_policy = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
    env = Environment(account=config.account, region=config.region)
    monitoring = MonitoringStack(
        app,
        f"Keel-{config.name}-Monitoring",
        config=config,
        contract=contract,
        keys=security.keys,
        removal_policy=removal_policy,
        alert_topic=security.alerts.topic,
        stack_name=f"Keel-{config.name}-Monitoring",
        env=env,
        description=f"Keel {config.name}: monitoring",
    )
    serving = ServingStack(
        app,
        f"Keel-{config.name}-Serving",
        config=config,
        contract=contract,
        keys=security.keys,
        removal_policy=removal_policy,
        stack_name=f"Keel-{config.name}-Serving",
        env=env,
        description=f"Keel {config.name}: serving",
    )
    monitoring.add_dependency(security)
    serving.add_dependency(monitoring)  # the deployer refuses guarded updates until the rollback alarms exist
    return monitoring, serving


def synthesize(outdir: Path, env_name: str) -> Synthesized:
    app = App(context=read_cdk_context() | {"env": env_name}, outdir=str(outdir))
    config = config_from_app(app)
    stacks = build_environment(app, config)
    add_stacks(app, config, stacks.security)
    add_compliance_checks(app)
    app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding
    return Synthesized(config=config, outdir=outdir)


def findings_without_acknowledgments(outdir: Path, env_name: str) -> tuple[App, set[tuple[str, str]]]:
    """(app, {(rule, construct path)}) of the security stack and these two stacks with no acknowledgment."""
    app = App(
        context=read_cdk_context() | {"env": env_name, SKIP_ACKNOWLEDGMENTS_CONTEXT: True}, outdir=str(outdir)
    )
    config = config_from_app(app)
    security = SecurityStack(
        app,
        f"Keel-{config.name}-Security",
        config=config,
        removal_policy=RemovalPolicy.DESTROY,
        env=Environment(account=config.account, region=config.region),
    )
    add_stacks(app, config, security)
    add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)
    report = json.loads((outdir / "validation-report.json").read_text())
    return app, {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    }


def wired() -> bool:
    """Whether stacks/app.py builds these stacks itself (then the stacks tests' synthesis is shared)."""
    return {"monitoring", "serving"} <= set(KeelStacks.__dataclass_fields__)


# Wired, these tests join the stack tests' xdist group (one synthesis per environment for both); until then
# they synthesize on their own, in their own group, in parallel with the stack tests.
XDIST_GROUP = "synth" if wired() else "keel-serving-synth"
_cache: dict[str, Synthesized] = {}


def _run_folder(tmp_path_factory: Any, name: str) -> Path:
    """A folder of this test run shared by its xdist workers (each worker has its own basetemp below it)."""
    base = Path(tmp_path_factory.getbasetemp())
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name


def synthesized(tmp_path_factory: Any, env_name: str) -> Synthesized:
    if env_name in _cache:
        return _cache[env_name]
    if wired():
        from tests.unit.stacks import conftest as stacks_tests

        if env_name not in stacks_tests._cache:
            outdir = tmp_path_factory.mktemp(f"cdk-{env_name}")
            stacks_tests._cache[env_name] = stacks_tests.synthesize(outdir, env_name)
        shared = stacks_tests._cache[env_name]
        _cache[env_name] = Synthesized(config=shared.config, outdir=shared.outdir)
        return _cache[env_name]
    outdir = _run_folder(tmp_path_factory, f"keel-serving-synth-{env_name}")
    outdir.parent.mkdir(parents=True, exist_ok=True)
    with outdir.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = outdir / "synthesized"
        if not done.exists():
            synthesize(outdir, env_name)
            done.touch()
    _cache[env_name] = Synthesized(config=load_environment(env_name), outdir=outdir)
    return _cache[env_name]
