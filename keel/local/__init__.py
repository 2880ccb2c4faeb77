"""Keel's local AWS: moto server plus the CloudFormation glue and fixes Keel's stacks need.

`python -m keel.local.server` starts moto with Keel's extensions (`keel.local.extensions` lists them);
`keel.local.process` starts and stops that server; `keel local up|down|status` drives it from the CLI.
Nothing here imports moto at module load except the server side (`server`, `cfn_models`, `patches`),
so the CLI stays fast.
"""
