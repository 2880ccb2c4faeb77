"""Feedback loops: the data, streaming, performance and human triggers of retraining.

Each Lambda in `lambdas/` is a thin handler over a logic module here. Every AWS call goes through a small
interface (`ports`), so tests and the local runner can provide their own implementations; `aws` holds the
boto3 ones and `runtime` wires them from the environment variables the feedback stack sets.
"""
