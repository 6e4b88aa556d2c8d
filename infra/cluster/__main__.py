"""`pulumi up` entry point of the cluster program."""

import pulumi

from wharf_infra.deploy.cluster import build_cluster

for key, value in build_cluster().items():
    pulumi.export(key, value)
