"""Feedback loops: data, streaming, performance and human triggers of retraining (see README_SECTION.md)."""
