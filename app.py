#!/usr/bin/env python3
"""Keel's CDK app.

`cdk synth|deploy -c env=NAME --all` builds every stack of one environment (default: local);
`cdk synth|deploy -c env=delivery KeelDelivery` builds the promotion pipeline (dev → staging → prod).
"""

from __future__ import annotations

import sys

from aws_cdk import App

from keel.config import DELIVERY_ENVIRONMENT, ENV_CONTEXT_KEY, ConfigError, config_from_app
from keel.contract import ContractError


def main() -> int:
    app = App()
    try:
        if app.node.try_get_context(ENV_CONTEXT_KEY) == DELIVERY_ENVIRONMENT:
            from stacks.delivery.app import build_delivery_app

            build_delivery_app(app)
        else:
            from stacks.app import build_app

            build_app(app, config_from_app(app))
    except (ConfigError, ContractError) as error:
        print(f"Keel: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
