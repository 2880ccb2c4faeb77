"""Lineage: what each training run consumed and produced, recorded for audit."""
