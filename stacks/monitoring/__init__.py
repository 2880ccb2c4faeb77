"""The monitoring stack: Keel's metrics, alarms, model-health composite, dashboard, budget, drift check."""
