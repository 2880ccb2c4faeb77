"""`keel` subcommands: each module here exposes `register(subparsers)` and is discovered by keel.cli."""
