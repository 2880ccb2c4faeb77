"""CloudFormation provider for `Custom::KeelMacieClassificationJob` (there is no CloudFormation type)."""
