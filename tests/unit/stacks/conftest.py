"""Synthesize each environment once per test session (the jsii runtime start dominates synth time)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from keel.config import EnvironmentConfig, config_from_app, read_cdk_context
from stacks.app import KeelStacks, build_app

ENVIRONMENTS = ("local", "dev", "staging", "prod")


@dataclass
class Synthesized:
    config: EnvironmentConfig
    stacks: KeelStacks
    outdir: Path

    def template(self, stack_name: str) -> Template:
        return Template.from_json(self.template_json(stack_name))

    def template_json(self, stack_name: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack_name}.template.json").read_text())

    @property
    def templates(self) -> dict[str, dict[str, Any]]:
        return {
            p.name.removesuffix(".template.json"): json.loads(p.read_text())
            for p in sorted(self.outdir.glob("*.template.json"))
        }


# cx-api's DISABLE_ASSET_STAGING_CONTEXT (not exported to Python): assets are fingerprinted as usual, but not
# copied into the output folder. The templates, tree.json and the cdk-nag validation report are byte-identical
# either way and the asset manifests list the same assets under the same hashes, with the source folder as
# their path instead of a copy. The copy is ~345 MB per environment (the step image's build context and one
# bundle per Lambda) and ~40 % of a warm synth's time.
NO_ASSET_STAGING = {"aws:cdk:disable-asset-staging": True}


def synthesize(outdir: Path, env_name: str, **context_overrides: Any) -> Synthesized:
    """Build the app exactly as `cdk synth -c env=NAME` does (same context, so the same feature flags), except
    that assets are not copied into `outdir` (NO_ASSET_STAGING)."""
    context = read_cdk_context() | {"env": env_name} | NO_ASSET_STAGING | context_overrides
    app = App(context=context, outdir=str(outdir))
    config = config_from_app(app)
    stacks = build_app(app, config)
    app.synth()
    return Synthesized(config=config, stacks=stacks, outdir=outdir)


_cache: dict[str, Synthesized] = {}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    def get(env_name: str) -> Synthesized:
        if env_name not in _cache:
            _cache[env_name] = synthesize(tmp_path_factory.mktemp(f"cdk-{env_name}"), env_name)
        return _cache[env_name]

    return get


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}
