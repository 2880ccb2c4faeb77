"""The local runner: executes a deployed SageMaker pipeline definition on this machine."""
