"""Keel's Lambda functions: one folder each, a thin `handler.py` over plain, tested functions."""
