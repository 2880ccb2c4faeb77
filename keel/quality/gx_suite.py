"""The contract's expectations as a Great Expectations 1.x suite, and running it on a pandas DataFrame.

Great Expectations is imported inside the functions: it costs ~3 s, and most users of keel.quality (the
CLI's help, the drift step, tests of the pure parts) never need it.

Cost model (GE 1.24, measured in bench/bench_validation.py): ~4 ms per expectation per run whatever the
data size, twice that with detailed result formats, plus GE's md5 fingerprint of the whole batch, which
alone costs more than all the checks. So a run (1) reuses one context and suite per process, (2) evaluates
every expectation BOOLEAN_ONLY and re-runs only the failing ones in the requested format (the details are
what a reader of a failure needs; a passing expectation's details are zeros), and (3) computes the batch
fingerprint in cache-sized chunks (`gx_fingerprint`). Success, failing expectations and the failing
expectations' details are exactly those of a single run in the requested format; tests hold them to it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from keel.contract import DatasetContract
from keel.quality.expectations import ExpectationSpec
from keel.quality.gx_fingerprint import frame_fingerprint, ge_hashing_disabled

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

DEFAULT_RESULT_FORMAT = "SUMMARY"
BOOLEAN_ONLY = "BOOLEAN_ONLY"
# Recorded in the result's meta, so a reader of validation_result.json knows why passing results are bare.
RESULT_FORMATS_META = "keel_result_formats"
FINGERPRINT = "pandas_data_fingerprint"


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


@dataclass(frozen=True)
class SuiteRunner:
    """An ephemeral context (nothing is written to disk) holding one suite, ready to validate frames."""

    suite: Any  # great_expectations.ExpectationSuite, as added to the context
    batch_definition: Any
    definition: Any  # great_expectations.ValidationDefinition

    @classmethod
    def create(cls, contract: DatasetContract, specs: Sequence[ExpectationSpec]) -> SuiteRunner:
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
        return cls(suite, batch, definition)

    def run(self, frame: pd.DataFrame, result_format: str = DEFAULT_RESULT_FORMAT) -> dict[str, Any]:
        """Validate `frame`; returns the result as JSON (see the module docstring for the two passes)."""
        with ge_hashing_disabled() as threshold:
            result = self.definition.run(batch_parameters={"dataframe": frame}, result_format=BOOLEAN_ONLY)
            failing = [r.expectation_config.id for r in result.results if not r.success]
            details = (
                self._details(frame, failing, result_format)
                if failing and result_format != BOOLEAN_ONLY
                else {}
            )
        document = dict(result.to_json_dict())
        document["results"] = [details.get(r["expectation_config"]["id"], r) for r in document["results"]]
        fingerprint = frame_fingerprint(frame, threshold)
        if fingerprint is not None:
            document["meta"]["batch_markers"][FINGERPRINT] = fingerprint
        document["meta"][RESULT_FORMATS_META] = {"failing": result_format, "passing": BOOLEAN_ONLY}
        return document

    def _details(
        self, frame: pd.DataFrame, expectation_ids: Sequence[str], result_format: str
    ) -> dict[str, dict[str, Any]]:
        """The failing expectations' results in `result_format`, by expectation id."""
        gx = _gx()
        from great_expectations.validator.v1_validator import Validator

        wanted = set(expectation_ids)
        subset = gx.ExpectationSuite(
            name=self.suite.name,
            expectations=[e.configuration for e in self.suite.expectations if e.id in wanted],
        )
        validator = Validator(
            batch_definition=self.batch_definition,
            batch_parameters={"dataframe": frame},
            result_format=cast(Any, result_format),  # GE types it as a Literal of the format names
        )
        results = validator.validate_expectation_suite(subset).to_json_dict()["results"]
        return {r["expectation_config"]["id"]: r for r in results}


_RUNNERS: dict[str, SuiteRunner] = {}


def suite_runner(contract: DatasetContract, specs: Sequence[ExpectationSpec]) -> SuiteRunner:
    """The process's runner for this contract and these specs (built once: ~40 ms, see module docstring)."""
    key = json.dumps(
        [contract.name, contract.version, [[s.type, s.kwargs] for s in specs]], sort_keys=True, default=str
    )
    if key not in _RUNNERS:
        _RUNNERS[key] = SuiteRunner.create(contract, specs)
    return _RUNNERS[key]


def clear_runners() -> None:
    """Forget the cached runners (benchmarks time a fresh process's first run this way)."""
    _RUNNERS.clear()


def run_suite(
    frame: pd.DataFrame,
    contract: DatasetContract,
    specs: Sequence[ExpectationSpec],
    *,
    result_format: str = DEFAULT_RESULT_FORMAT,
) -> dict[str, Any]:
    """Validate `frame` against the contract's suite; returns the result as JSON.

    `result_format` applies to failing expectations; passing ones are recorded BOOLEAN_ONLY.
    """
    return suite_runner(contract, specs).run(frame, result_format)
