"""Keel's CDK stacks: one stack per concern, composed of small constructs (see `stacks.app.build_app`)."""
