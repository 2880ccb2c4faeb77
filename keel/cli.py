"""The `keel` command line. Subcommands live in `keel.commands.*`, one module each, discovered here."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import keel.commands
from keel import __version__
from keel.aws import credentials_problem


class UsageError(Exception):
    """Bad input from the user: printed as one clear line, never as a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keel", description="Keel: production ML platform on AWS.")
    parser.add_argument("--version", action="version", version=f"keel {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(keel.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"keel.commands.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except (UsageError, ValueError, FileNotFoundError) as error:
        # ConfigError and ContractError are ValueErrors whose messages name the key or field.
        print(f"keel {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # No (or rejected) credentials for the environment is bad input, said in one line, for every command.
        problem = credentials_problem(error)
        if problem is None:
            raise
        where = f" for environment {args.env!r}" if getattr(args, "env", None) else ""
        print(f"keel {args.command}: error: {problem}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
