"""Each component names its children after itself (`<component>-<part>`), in every stack, and a
renamed child keeps its former name, `<part>`, as an alias, so a stack deployed before is updated
in place."""

import pytest
from program_runs import Registration, per_stack, registrations

from wharf_infra.deploy.components.component import PLATFORM_TYPE
from wharf_infra.verify.render import STACKS


@pytest.fixture(scope="module")
def registered() -> dict[str, list[Registration]]:
    """Stack -> what its platform program registers, as the engine would receive it."""
    stacks: dict[str, list[Registration]] = per_stack(registrations, STACKS)
    return stacks


@pytest.mark.parametrize("stack", STACKS)
def test_children_are_named_after_their_component_and_aliased_to_their_former_name(
    stack: str, registered: dict[str, list[Registration]]
) -> None:
    children = [r for r in registered[stack] if r.parent_type.startswith(f"{PLATFORM_TYPE}:")]
    assert children, "no component declared a child"
    for child in children:
        prefix = f"{child.parent_name}-"
        assert child.name.startswith(prefix), f"{child.type} {child.name!r} of {child.parent_name}"
        for former in child.aliases:
            assert child.name == f"{prefix}{former}", f"{child.name} aliased to {former}"
