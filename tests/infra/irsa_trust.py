"""The IAM roles' trust policies of a cloud stack, read in a process of its own.

A module apart from the test, importing no `conftest`: the process pool's fresh interpreter
imports it by name, and there `conftest` may resolve to another tier's.
"""

import json
from typing import Any
from unittest import mock

import pulumi

from wharf_infra.verify import render

ROLE_TYPE = "aws:iam/role:Role"


def trust_policies(stack: str) -> dict[str, dict[str, Any]]:
    """Each IAM role's ARN, as the render's mocks answer it, and its trust policy.

    The render's `cloud.yaml` keeps no inputs, so the platform program runs again (in a fresh
    interpreter: Pulumi's runtime is process-global) with a recorder that keeps the roles.
    """
    policies: dict[str, dict[str, Any]] = {}

    class Roles(render.Recorder):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            resource_id, state = super().new_resource(args)
            if args.typ == ROLE_TYPE:
                policies[state["arn"]] = json.loads(state["assumeRolePolicy"])
            return resource_id, state

    with mock.patch.object(render, "Recorder", Roles):
        render.run_program("platform", stack)
    return policies
