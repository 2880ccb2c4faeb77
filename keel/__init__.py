"""Keel: a production ML platform on AWS as one CDK app (shared domain code and the `keel` CLI)."""

__version__ = "0.1.0"
