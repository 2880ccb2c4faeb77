"""Delivery: the CDK Pipelines promotion pipeline (KeelDelivery) that deploys every environment in turn."""
