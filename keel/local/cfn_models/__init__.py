"""CloudFormation models moto lacks (or gets wrong) for the resource types Keel deploys.

Each module holds the models of one service; each model delegates to moto's own service backend, so what
CloudFormation creates is what the service API reports. `registry` puts them in front of moto's models.
"""
