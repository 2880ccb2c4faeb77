"""The contract's expectations as a Great Expectations 1.x suite, and running it on a pandas DataFrame.

Great Expectations is imported inside the functions: it costs ~3 s, and most users of keel.quality (the
CLI's help, the drift step, tests of the pure parts) never need it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from keel.contract import DatasetContract
from keel.quality.expectations import ExpectationSpec

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

DEFAULT_RESULT_FORMAT = "SUMMARY"


def _gx() -> Any:
    # Belt and braces: nothing of Keel's may phone home, whatever a future GE version defaults to.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations


def expectation_class_name(expectation_type: str) -> str:
    """ "expect_column_values_to_be_between" -> "ExpectColumnValuesToBeBetween"."""
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def build_suite(contract: DatasetContract, specs: Sequence[ExpectationSpec]) -> ExpectationSuite:
    gx = _gx()
    import great_expectations.expectations as gxe

    expectations = [getattr(gxe, expectation_class_name(spec.type))(**spec.kwargs) for spec in specs]
    return gx.ExpectationSuite(
        name=f"{contract.name}-{contract.version}",
        expectations=expectations,
        meta={"contract": contract.name, "contract_version": contract.version, "generated_by": "keel"},
    )


def run_suite(
    frame: pd.DataFrame,
    contract: DatasetContract,
    specs: Sequence[ExpectationSpec],
    *,
    result_format: str = DEFAULT_RESULT_FORMAT,
) -> dict[str, Any]:
    """Validate `frame` in an ephemeral context (nothing is written to disk); returns the result as JSON."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("keel")
        .add_dataframe_asset(contract.name)
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = context.suites.add(build_suite(contract, specs))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{contract.name}-validation", data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    return dict(result.to_json_dict())
