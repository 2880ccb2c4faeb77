"""`keel validate FILE...`: check data files against a dataset contract (the pipeline's own validation).

Exit 0 when the data passes, 1 when it fails (a summary of the failing expectations is printed), 2 for
bad input such as a missing file or an unknown contract.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from keel.contract import DEFAULT_CONTRACT, load_contract


def run(args: argparse.Namespace) -> int:
    from keel.cli import UsageError
    from keel.quality.reading import DataFileError, list_data_files
    from keel.quality.summary import render_text
    from keel.quality.validation import validate_files, write_outcome

    contract = load_contract(args.contract)
    files: list[Path] = []
    for path in args.files:
        try:
            found = list_data_files(path)
        except DataFileError as error:
            raise UsageError(str(error)) from None
        if not found:
            raise UsageError(f"{path}: no data files (*.csv) in this directory")
        files += found
    outcome = validate_files(files, contract)
    print(render_text(outcome.summary), end="")
    if args.out is not None:
        written = write_outcome(outcome, args.out)
        print(f"results: {', '.join(str(p) for p in written)}")
    return 0 if outcome.summary.success else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate", help="validate data files against a dataset contract", description=__doc__
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV file or directory of CSVs")
    parser.add_argument("--contract", default=DEFAULT_CONTRACT, help="contract name or YAML path")
    parser.add_argument(
        "--out", type=Path, help="write summary.json/.txt, validation_result.json and quarantine.csv here"
    )
    parser.set_defaults(handler=run)
