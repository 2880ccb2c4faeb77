"""The governance stack: the policy gate and the Macie quarantine."""
