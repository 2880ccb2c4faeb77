"""Python stand-ins for the CDK's own custom-resource Lambdas (they cannot run locally without Docker)."""
