"""The platform program run under mocks, each stack in an interpreter of its own.

Pulumi's runtime is process-global (its mocks, its config, an event loop that tests run before may
have closed), so a test that needs more than the render keeps runs the program in a fresh
interpreter. A module apart from the tests, importing no `conftest`: the process pool's interpreter
imports it by name, and there `conftest` may resolve to another tier's.
"""

import json
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from unittest import mock

import pulumi
from pulumi.runtime import mocks

from wharf_infra.verify import render

ROLE_TYPE = "aws:iam/role:Role"
T = TypeVar("T")


def per_stack(run: Callable[[str], T], stacks: Iterable[str]) -> dict[str, T]:
    """`run(stack)` for each stack, each in a fresh interpreter."""
    stacks = tuple(stacks)
    with ProcessPoolExecutor(len(stacks), mp_context=multiprocessing.get_context("spawn")) as pool:
        return dict(zip(stacks, pool.map(run, stacks), strict=True))


def trust_policies(stack: str) -> dict[str, dict[str, Any]]:
    """Each IAM role's ARN, as the render's mocks answer it, and its trust policy (the render's
    `cloud.yaml` keeps no inputs)."""
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


@dataclass(frozen=True)
class Registration:
    """One resource as the engine receives its registration."""

    type: str
    name: str
    parent: str  # the parent's URN: `…$<parent type>::<parent name>`
    aliases: tuple[str, ...]  # the names its alias specs give (none: an alias keeping the name)

    @property
    def parent_type(self) -> str:
        return self.parent.rsplit("::", 2)[-2].rsplit("$", 1)[-1] if self.parent else ""

    @property
    def parent_name(self) -> str:
        return self.parent.rsplit("::", 1)[-1]


def registrations(stack: str) -> list[Registration]:
    """What the platform program registers for `stack`."""
    recorded = []
    register = cast(Callable[[Any, Any], Any], mocks.MockMonitor.RegisterResource)

    def recording(monitor: Any, request: Any) -> Any:
        aliases = tuple(a.spec.name for a in request.aliases if a.HasField("spec") and a.spec.name)
        recorded.append(Registration(request.type, request.name, request.parent, aliases))
        return register(monitor, request)

    with mock.patch.object(mocks.MockMonitor, "RegisterResource", recording):
        render.run_program("platform", stack)
    return recorded
