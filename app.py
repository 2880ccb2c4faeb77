#!/usr/bin/env python3
"""Keel's CDK app: `cdk synth|deploy -c env=NAME --all` builds every stack of one environment."""

from __future__ import annotations

import sys

from aws_cdk import App

from keel.config import ConfigError, config_from_app
from keel.contract import ContractError
from stacks.app import build_app


def main() -> int:
    app = App()
    try:
        config = config_from_app(app)
        build_app(app, config)
    except (ConfigError, ContractError) as error:
        print(f"Keel: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
