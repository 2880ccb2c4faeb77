"""Security and audit: KMS keys, CloudTrail, Macie, alerts, IAM baseline."""
