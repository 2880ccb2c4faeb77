"""The serving stack: deploy approved models to the endpoint with guardrails, data capture and rollback."""
