"""`keel synth-all`: synthesize every environment in one process (one jsii runtime start), each into its own
cloud assembly (`cdk.out.<env>`), so stale templates of one environment never mix with another's."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from keel.config import PROJECT_ROOT, environment_names, read_cdk_context


def synth_environment(
    env_name: str, outdir: Path, extra_context: dict[str, object] | None = None
) -> list[str]:
    """Synthesize one environment exactly as `cdk synth -c env=NAME` would; returns the stack names."""
    from aws_cdk import App

    from keel.config import config_from_app
    from stacks.app import build_app

    app = App(context=read_cdk_context() | {"env": env_name} | (extra_context or {}), outdir=str(outdir))
    build_app(app, config_from_app(app))
    assembly = app.synth()
    return [stack.stack_name for stack in assembly.stacks]


def run(args: argparse.Namespace) -> int:
    names = args.env or environment_names(read_cdk_context())
    for name in names:
        started = time.perf_counter()
        outdir = Path(args.output_prefix + name)
        stacks = synth_environment(name, outdir)
        print(f"{name:8s} {', '.join(stacks)} -> {outdir} ({time.perf_counter() - started:.1f} s)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("synth-all", help="synthesize every environment (cdk-nag checks included)")
    parser.add_argument("--env", action="append", help="only this environment (repeatable)")
    parser.add_argument(
        "--output-prefix",
        default=str(PROJECT_ROOT / "cdk.out."),
        help="assembly folder prefix; the environment name is appended",
    )
    parser.set_defaults(handler=run)
