"""`pulumi up` entry point of the platform program."""

import pulumi

from wharf_infra.deploy.platform import build_platform

for key, value in build_platform(pulumi.get_stack()).items():
    pulumi.export(key, value)
