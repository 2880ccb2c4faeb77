"""Reusable constructs shared by Keel's stacks."""
