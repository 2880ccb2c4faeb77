"""Data quality derived from the dataset contract.

`expectations` turns a contract into expectation specs; Great Expectations runs them (`gx_suite`, the
auditable record) and vectorised pandas evaluates the same specs (`checks`, row-level reasons for the
quarantine). Great Expectations costs seconds to import, so only `gx_suite` imports it, lazily.
"""
