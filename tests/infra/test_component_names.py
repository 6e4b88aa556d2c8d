"""Each component names its children after itself (`<component>-<part>`), in every stack, and a
renamed child keeps its former name, `<part>`, as an alias, so a stack deployed before is updated
in place."""

from dataclasses import dataclass
from typing import Any

import pytest
from pulumi.runtime import mocks

from wharf_infra.deploy.components.component import PLATFORM_TYPE
from wharf_infra.verify.render import STACKS, run_program


@dataclass(frozen=True)
class Registration:
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


def _registrations(stack: str, monkeypatch: pytest.MonkeyPatch) -> list[Registration]:
    """What the platform program registers for `stack`, as the engine would receive it."""
    recorded = []
    register = mocks.MockMonitor.RegisterResource

    def recording(monitor: Any, request: Any) -> Any:
        aliases = tuple(a.spec.name for a in request.aliases if a.HasField("spec") and a.spec.name)
        recorded.append(Registration(request.type, request.name, request.parent, aliases))
        return register(monitor, request)

    monkeypatch.setattr(mocks.MockMonitor, "RegisterResource", recording)
    run_program("platform", stack)
    return recorded


@pytest.mark.parametrize("stack", STACKS)
def test_children_are_named_after_their_component_and_aliased_to_their_former_name(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    children = [
        r for r in _registrations(stack, monkeypatch) if r.parent_type.startswith(f"{PLATFORM_TYPE}:")
    ]
    assert children, "no component declared a child"
    for child in children:
        prefix = f"{child.parent_name}-"
        assert child.name.startswith(prefix), f"{child.type} {child.name!r} of {child.parent_name}"
        for former in child.aliases:
            assert child.name == f"{prefix}{former}", f"{child.name} aliased to {former}"
