"""Macie quarantine: objects with sensitive-data findings are moved out of the training inputs."""
