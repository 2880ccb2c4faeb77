"""Automated training: the SageMaker pipeline, its roles, the step image and the model registry."""
